import Logging
import Synchronization

/// The client's log lines on stderr: at the default level only those that say something
/// failed (warnings and errors), with `--verbose` everything down to debug, so a command's
/// own output and its error stay the only text a person sees.
enum ClientLogging {
    private static let verboseFlag = Mutex(false)

    /// Set by ``GlobalOptions`` while the command line is parsed, before any logger exists.
    static var verbose: Bool {
        get { verboseFlag.withLock { $0 } }
        set { verboseFlag.withLock { $0 = newValue } }
    }

    /// Installs the handler: each logger made after parsing takes the level `--verbose` chose.
    static func bootstrap() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return handler
        }
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--edit`: the person's own text editor on a private temporary file, as `git commit` does.
enum ExternalEditor {
    /// The editor command: `VISUAL`, else `EDITOR`, else `vi` (run through `sh`, so a
    /// command with arguments such as `code --wait` works).
    static func command(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for name in ["VISUAL", "EDITOR"] {
            if let value = environment[name], !value.trimmingCharacters(in: .whitespaces).isEmpty { return value }
        }
        return "vi"
    }

    /// Refuses before anything is read or written when stdin or stdout is not a terminal:
    /// an editor needs one, and a script would hang waiting for it.
    static func requireTerminal(option: String) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw ClientError.usage(
                "\(option) opens your text editor and needs a terminal; without one, give the text as an argument, "
                    + "with --file PATH, or `-` to read stdin")
        }
    }

    /// Opens `text` in the editor and returns what the file holds when it exits (one
    /// final line break, which editors add, removed when `text` had none).
    ///
    /// - Throws: ``ClientError`` 74 when the file cannot be written or read, or the
    ///   editor exits with a failure (then nothing is to change).
    static func edit(_ text: String, name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-edit-\(UUID().uuidString)")
        do {
            // Private: the text may be personal data.
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError.io("cannot make a temporary file to edit: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw ClientError.io("cannot write the temporary file \(file.path)") }
        let editor = command()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", editor + " \"$1\"", "sh", file.path]
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            throw ClientError.io("cannot start the editor '\(editor)': \(error.localizedDescription); set VISUAL or EDITOR")
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw ClientError.io("the editor '\(editor)' failed (status \(process.terminationStatus)); nothing changed")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ClientError.io("cannot read back \(file.path) after editing; nothing changed")
        }
        var edited = String(decoding: data, as: UTF8.self)
        if edited.hasSuffix("\n"), !text.hasSuffix("\n") { edited.removeLast() }
        return edited
    }
}

/// The text a command writes into a collaborative text field: all of it anew (an
/// argument, a file, stdin, or the editor), or an addition at its end.
enum TextChange: Sendable {
    /// Replace the whole text (written as a minimal edit).
    case replace(String)
    /// Add at the end, on a line of its own.
    case append(String)

    /// Reads the change `--append`, `--edit` or the usual text input ask for; exactly one
    /// way must be given. `current` is read only for `--edit`.
    ///
    /// - Throws: ``ClientError`` 64 when none or several ways are given, or `--edit` has
    ///   no terminal.
    static func read(
        argument: String?, file: String?, append: String?, edit: Bool, name: String, current: () async throws -> String
    ) async throws -> TextChange {
        let given = [argument != nil || file != nil, append != nil, edit].filter { $0 }.count
        guard given <= 1 else { throw ClientError.usage("give the text, --append or --edit, not several") }
        if let append {
            return .append(append == "-" ? try TextInput.read(argument: "-", file: nil) : append)
        }
        if edit {
            try ExternalEditor.requireTerminal(option: "--edit")
            return .replace(try ExternalEditor.edit(try await current(), name: name))
        }
        return .replace(try TextInput.read(argument: argument, file: file))
    }
}

import DialogueModel
import Foundation

// The full command line arrives with issue #5. Today it can print the built-in prompt library.
let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "prompts":
    for prompt in PromptLibrary.starter {
        print("[\(prompt.theme)] \(prompt.text)")
    }
default:
    FileHandle.standardError.write(
        Data(
            """
            usage: dialogue-client prompts
            The rest of the command line (sessions, insights, sync…) arrives with issue #5.

            """.utf8))
    exit(64)
}

import Foundation

/// Checks of a `Command`'s options and of output patterns, before anything is built.
/// Reads the file system (the working directory and input file must exist when the run starts).
enum ProgramValidator {
    static func check(_ command: Command, fail: (SourceLocation, String) -> Void) {
        let location = command.location
        for argument in command.arguments where argument.contains("\0") {
            fail(location, "command \(command.name): argument \"\(argument.replacingOccurrences(of: "\0", with: "\\0"))\" contains NUL")
        }
        for (name, value) in command.environment.variables.sorted(by: { $0.key < $1.key }) {
            if name.isEmpty || name.contains("=") || name.contains("\0") {
                fail(location, "command \(command.name): environment variable name \"\(name.replacingOccurrences(of: "\0", with: "\\0"))\" must be non-empty, without = or NUL")
            }
            if value.contains("\0") { fail(location, "command \(command.name): environment variable \(name)'s value contains NUL") }
        }
        if let directory = command.workingDirectory {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
                fail(location, "command \(command.name): working directory \(directory) does not exist")
            } else if !isDirectory.boolValue {
                fail(location, "command \(command.name): working directory \(directory) is not a directory")
            }
        }
        if case .file(let path) = command.input {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                fail(location, "command \(command.name): input file \(path) does not exist")
            } else if isDirectory.boolValue {
                fail(location, "command \(command.name): input file \(path) is a directory")
            } else if !FileManager.default.isReadableFile(atPath: path) {
                fail(location, "command \(command.name): input file \(path) is not readable")
            }
        }
    }

    static func check(_ pattern: OutputPattern, _ location: SourceLocation, fail: (SourceLocation, String) -> Void) {
        switch pattern {
        case .contains(let text):
            if text.isEmpty { fail(location, "an output pattern must not be empty") }
            if text.contains(where: \.isNewline) { fail(location, "output is matched line by line: \"\(text)\" holds a newline, so it can never match") }
        case .matches(let expression):
            if expression.isEmpty {
                fail(location, "an output pattern must not be empty")
                return
            }
            do { _ = try NSRegularExpression(pattern: expression) } catch {
                fail(location, "/\(expression)/ is not a valid regular expression")
            }
        }
    }

    static func checkDurations(_ atLeast: Double?, _ atMost: Double?, _ location: SourceLocation,
                               fail: (SourceLocation, String) -> Void) {
        for value in [atLeast, atMost].compactMap({ $0 }) where !(value >= 0) {
            fail(location, "a duration must not be negative")
        }
        if let atLeast, let atMost, atLeast > atMost {
            fail(location, "tookAtLeast \(Format.seconds(atLeast)) is more than tookAtMost \(Format.seconds(atMost))")
        }
    }
}

/// The environment a `Command` runs with.
public enum ProcessEnvironment: Sendable, Equatable {
    /// netfault's own environment, unchanged.
    case inherited
    /// netfault's environment with these variables added (or overridden).
    case adding([String: String])
    /// Only these variables.
    case replacing([String: String])

    /// The variables the program gets, given netfault's own.
    public func resolved(inheriting inherited: [String: String]) -> [String: String] {
        switch self {
        case .inherited: inherited
        case .adding(let variables): inherited.merging(variables) { _, added in added }
        case .replacing(let variables): variables
        }
    }

    var variables: [String: String] {
        switch self {
        case .inherited: [:]
        case .adding(let variables), .replacing(let variables): variables
        }
    }
}

/// What a `Command` reads on its standard input.
public enum ProcessInput: Sendable, Equatable {
    /// /dev/null: reads see end of file at once.
    case none
    /// The file at this path (opened when the command starts).
    case file(String)
    /// These bytes, then end of file.
    case bytes([UInt8])

    /// This text as UTF-8, then end of file.
    public static func text(_ text: String) -> ProcessInput { .bytes(Array(text.utf8)) }
}

/// One of a process's two output streams.
public enum StandardStream: String, Sendable, Equatable, Codable, CaseIterable {
    /// Standard output and standard error.
    case stdout, stderr
}

/// What a line of a program's output is matched against. Output is matched line by line
/// as it streams (each line without its newline; a line longer than 64 KiB is matched in
/// 64 KiB pieces), so a match is found however much output is cut from the record.
public enum OutputPattern: Sendable, Hashable, CustomStringConvertible {
    /// The line contains this text.
    case contains(String)
    /// An NSRegularExpression pattern finds a match in the line.
    case matches(String)

    public var description: String {
        switch self {
        case .contains(let text): "contains \"\(text)\""
        case .matches(let pattern): "matches /\(pattern)/"
        }
    }
}

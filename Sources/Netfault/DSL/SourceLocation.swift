/// Where in a scenario file something was written: failures point here.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    /// The file's path, as #filePath gave it.
    public let file: String
    /// The line, from 1.
    public let line: Int

    /// A location in a source file.
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// Something given on the command line rather than written in a file, e.g.
    /// `--sysctl client:net.ipv4.tcp_syn_retries=2`: errors name it as given.
    public static func commandLine(_ option: String) -> SourceLocation { SourceLocation(file: option, line: 0) }

    /// `Scenarios/LostSynAck.swift:23`: the path from the package's top folder
    /// (the part after Sources/ or from Scenarios/ and Tests/), as packetdrill prints it;
    /// a command-line option (line 0) as it was given.
    public var description: String { line == 0 ? file : "\(Self.shortPath(file)):\(line)" }

    static func shortPath(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if let index = parts.lastIndex(where: { $0 == "Scenarios" || $0 == "Tests" || $0 == "Sources" }) {
            return parts[index...].joined(separator: "/")
        }
        return parts.suffix(2).joined(separator: "/")
    }
}

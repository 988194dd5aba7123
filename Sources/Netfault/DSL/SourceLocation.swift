/// Where in a scenario file something was written: failures point here.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `Scenarios/LostSynAck.swift:23`: the path from the package's top folder
    /// (the part after Sources/ or from Scenarios/ and Tests/), as packetdrill prints it.
    public var description: String { "\(Self.shortPath(file)):\(line)" }

    static func shortPath(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if let index = parts.lastIndex(where: { $0 == "Scenarios" || $0 == "Tests" || $0 == "Sources" }) {
            return parts[index...].joined(separator: "/")
        }
        return parts.suffix(2).joined(separator: "/")
    }
}

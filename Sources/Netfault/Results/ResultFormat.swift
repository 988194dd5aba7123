import Foundation

/// Every kind of JSON document netfault writes, each with the version of its shape. Each
/// document carries `schemaVersion` (an integer, per format) and `netfaultVersion`; its JSON
/// Schema is `docs/schemas/<rawValue>.schema.json`.
///
/// One integer per format rather than one shared: a change to a benchmark's JSON must not make
/// every netfault built before it refuse run files whose shape did not change. Formats that
/// embed another's objects move together: a sweep's points are the run's scenario results, so
/// a change to a scenario result bumps `run` and `sweep` both.
///
/// The rule (CHANGELOG.md says it too): any change to a document's shape — a field added,
/// removed, renamed or retyped, a value's meaning changed — bumps that format's
/// `currentVersion`, edits its schema (`schemaVersion`'s `const` and the field itself), and
/// gets a line in CHANGELOG.md. A version first written in an unreleased build may still
/// grow until that release; once released, it is frozen.
public enum ResultFormat: String, CaseIterable, Sendable {
    /// `netfault run --json FILE`; what `report`, `claims --from` and `matrix` read back.
    case run
    /// `netfault sweep --json FILE`.
    case sweep
    /// `netfault claims --json`.
    case claims
    /// `netfault matrix --json`.
    case matrix
    /// `netfault bench topology --json FILE`.
    case benchTopology = "bench-topology"
    /// `netfault bench faults --json FILE`.
    case benchFaults = "bench-faults"
    /// `netfault bench timeline --json FILE`.
    case benchTimeline = "bench-timeline"
    /// `netfault bench output --json FILE`.
    case benchOutput = "bench-output"
    /// `netfault bench observation --json FILE`.
    case benchObservation = "bench-observation"
    /// `netfault doctor --json`: the kernel probes.
    case doctor
    /// `netfault list --json`: the catalog.
    case list

    /// The version this build writes, and the newest it reads.
    /// Version 0 is every document written before versions existed (no `schemaVersion`).
    public var currentVersion: Int {
        switch self {
        case .run, .sweep, .claims, .matrix, .benchTopology, .benchFaults, .benchTimeline, .benchOutput, .benchObservation,
             .doctor, .list: 1
        }
    }

    /// The oldest version this build still reads (only `run` documents are read back).
    public var oldestReadableVersion: Int { 0 }

    /// The schema's path in the repository.
    public var schemaPath: String { "docs/schemas/\(rawValue).schema.json" }
}

/// A document as netfault writes it: `value`'s own fields, plus `schemaVersion` (the format's
/// current version) and `netfaultVersion` (this build's) at the top level.
public struct ResultDocument<Value: Encodable>: Encodable {
    /// Which format, so which `schemaVersion`.
    public let format: ResultFormat
    /// The document's content; it must encode as a keyed container (a JSON object).
    public let value: Value

    /// `value` as a document of `format`.
    public init(_ format: ResultFormat, _ value: Value) {
        self.format = format
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case schemaVersion, netfaultVersion }

    /// `value` encodes into the same keyed container first; the two keys join its own.
    public func encode(to encoder: Encoder) throws {
        try value.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format.currentVersion, forKey: .schemaVersion)
        try c.encode(NetfaultVersion.current, forKey: .netfaultVersion)
    }

    /// Pretty-printed, keys sorted (two documents diff line by line), slashes unescaped.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// A document whose version this build cannot read: newer than it knows (written by a later
/// netfault) or older than it still reads. The CLI exits 5 with `description`.
public struct UnreadableResultVersion: Error, CustomStringConvertible, Equatable, Sendable {
    /// The format the reader expected.
    public let format: ResultFormat
    /// The document's `schemaVersion`.
    public let version: Int
    /// Which netfault wrote it, when it says.
    public let writtenBy: String?

    /// "schemaVersion 7 is newer than this netfault reads (≤ 1); upgrade netfault"; the CLI puts the file first.
    public var description: String {
        let by = writtenBy.map { " (written by netfault \($0))" } ?? ""
        if version > format.currentVersion {
            return "schemaVersion \(version)\(by) is newer than this netfault \(NetfaultVersion.current) reads "
                + "(≤ \(format.currentVersion)); upgrade netfault"
        }
        return "schemaVersion \(version)\(by) is older than this netfault \(NetfaultVersion.current) reads "
            + "(≥ \(format.oldestReadableVersion)); read it with an older netfault"
    }
}

/// The two version fields every document has at its top level (absent before versions: 0).
struct ResultVersionHeader: Decodable {
    var schemaVersion: Int?
    var netfaultVersion: String?

    /// Reads the header and checks `format` can read its version. Data that is not a JSON
    /// object, or whose `schemaVersion` is not an integer, throws the decoder's error.
    static func check(_ data: Data, as format: ResultFormat) throws -> Int {
        let header = try JSONDecoder().decode(Self.self, from: data)
        let version = header.schemaVersion ?? 0
        guard (format.oldestReadableVersion...format.currentVersion).contains(version) else {
            throw UnreadableResultVersion(format: format, version: version, writtenBy: header.netfaultVersion)
        }
        return version
    }
}

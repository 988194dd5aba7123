/// The text of a `--sysctl HOST:NAME=VALUE` option (for sweeps, `VALUE` may be a list:
/// `1,2,5` or a range `1..8`, or both: `1..3,10`). Pure: parsing only; the scenario
/// judges the host and the kernel the name and values.
public struct SysctlAssignment: Sendable, Equatable {
    /// The host, or `*` for every host.
    public let host: String
    /// The sysctl's dotted name.
    public let name: String
    /// Its values, in order (one for `run`, several for `sweep`).
    public let values: [String]

    /// At most this many values from ranges: a sweep runs the scenario once per value.
    public static let maximumValues = 1000

    /// A `--sysctl` argument that does not parse, and why.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// `allowingLists: false` (run): everything after the first `=` is the one value,
    /// commas and all (`net.ipv4.tcp_rmem=4096 131072 6291456` needs no list).
    public init(parsing text: String, allowingLists: Bool) throws(ParseError) {
        let usage = "--sysctl \(text): expected HOST:NAME=VALUE\(allowingLists ? "[,VALUE…]" : "") (HOST a host of the scenario, or * for every host)"
        guard let colon = text.firstIndex(of: ":"), let equals = text[colon...].firstIndex(of: "=") else {
            throw ParseError(description: usage)
        }
        let host = String(text[..<colon])
        let name = String(text[text.index(after: colon)..<equals])
        let valueText = String(text[text.index(after: equals)...])
        guard !host.isEmpty, !name.isEmpty, !valueText.isEmpty else { throw ParseError(description: usage) }
        self.host = host
        self.name = name
        values = allowingLists ? try Self.list(valueText, option: text) : [valueText]
    }

    /// `values` of `name` on `host`.
    public init(host: String, name: String, values: [String]) {
        self.host = host
        self.name = name
        self.values = values
    }

    /// One override per value, each naming the option with that value so an error
    /// points at exactly what the kernel refused.
    public var overrides: [SysctlOverride] {
        values.map { SysctlOverride(host: host, name: name, value: $0, location: .commandLine("--sysctl \(host):\(name)=\($0)")) }
    }

    /// "1..3,10" → ["1", "2", "3", "10"]; every value once.
    static func list(_ text: String, option: String) throws(ParseError) -> [String] {
        var values: [String] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw ParseError(description: "--sysctl \(option): an empty value in the list") }
            if let range = item.range(of: "..") {
                guard let low = Int(item[..<range.lowerBound]), let high = Int(item[range.upperBound...]), low <= high else {
                    throw ParseError(description: "--sysctl \(option): \"\(item)\" is not a range LOW..HIGH of integers, LOW ≤ HIGH")
                }
                guard high - low < maximumValues - values.count else {
                    throw ParseError(description: "--sysctl \(option): more than \(maximumValues) values")
                }
                values += (low...high).map(String.init)
            } else {
                values.append(item)
            }
        }
        var seen = Set<String>()
        for value in values where !seen.insert(value).inserted {
            throw ParseError(description: "--sysctl \(option): the value \(value) is listed twice")
        }
        return values
    }
}

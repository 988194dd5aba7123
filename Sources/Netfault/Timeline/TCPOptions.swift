/// The TCP options netfault reports (RFC 9293 MSS, RFC 7323 window scale and
/// timestamps, RFC 2018 SACK). Unknown kinds are skipped by their length.
public struct TCPOptions: Sendable, Equatable, Codable {
    /// The MSS option.
    public var mss: Int?
    /// The window scale shift.
    public var windowScale: Int?
    /// Whether SACK is permitted.
    public var sackPermitted: Bool?
    /// SACK blocks as [left, right) sequence numbers (relative in reports).
    public var sack: [[UInt32]]?
    /// [TSval, TSecr]
    public var timestamp: [UInt32]?

    /// Options as decoded; nil ones were absent.
    public init(mss: Int? = nil, windowScale: Int? = nil, sackPermitted: Bool? = nil, sack: [[UInt32]]? = nil,
                timestamp: [UInt32]? = nil) {
        self.mss = mss
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
        self.sack = sack
        self.timestamp = timestamp
    }

    /// Whether no option was present.
    public var isEmpty: Bool { self == TCPOptions() }

    /// Decodes the option bytes between the fixed TCP header and the data offset;
    /// nil when an option runs past the end (a malformed or cut header).
    public static func parse(_ bytes: ArraySlice<UInt8>) -> TCPOptions? {
        var options = TCPOptions()
        var index = bytes.startIndex
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        while index < bytes.endIndex {
            let kind = bytes[index]
            if kind == 0 { break }  // end of option list
            if kind == 1 { index += 1; continue }  // no-operation
            guard index + 1 < bytes.endIndex else { return nil }
            let length = Int(bytes[index + 1])
            guard length >= 2, index + length <= bytes.endIndex else { return nil }
            let body = index + 2
            switch (kind, length) {
            case (2, 4): options.mss = Int(u16(body))
            case (3, 3): options.windowScale = Int(bytes[body])
            case (4, 2): options.sackPermitted = true
            case (5, _) where (length - 2) % 8 == 0:
                options.sack = stride(from: body, to: index + length, by: 8).map { [u32($0), u32($0 + 4)] }
            case (8, 10): options.timestamp = [u32(body), u32(body + 4)]
            default: break
            }
            index += length
        }
        return options
    }

    /// tcpdump's rendering: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7" without the nops.
    public var summary: String {
        var parts: [String] = []
        if let mss { parts.append("mss \(mss)") }
        if sackPermitted == true { parts.append("sackOK") }
        if let timestamp { parts.append("TS val \(timestamp[0]) ecr \(timestamp[1])") }
        if let windowScale { parts.append("wscale \(windowScale)") }
        if let sack { parts.append("sack " + sack.map { "{\($0[0]):\($0[1])}" }.joined()) }
        return parts.joined(separator: ",")
    }
}

/// An address and a prefix length, as in `ip saddr 10.77.1.0/24`. Host bits
/// beyond the prefix are cleared (nft does the same), so 10.77.1.5/24 is 10.77.1.0/24.
public struct AddressPrefix: Sendable, Equatable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    /// nil when `length` is outside 0...32 (IPv4) or 0...128 (IPv6).
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bytes.count * 8 else { return nil }
        self.address = address.network(prefixLength: length)
        self.length = length
    }

    /// "10.77.1.0/24", "fd77:1::/61", or a bare address (a /32 or /128).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        guard parts.count == 2 else {
            self.init(address: address, length: address.bytes.count * 8)
            return
        }
        guard let length = Int(parts[1]) else { return nil }
        self.init(address: address, length: length)
    }

    public var isIPv6: Bool { address.isIPv6 }
    public var description: String { "\(address)/\(length)" }
}

/// `tcp flags & MASK == VALUE`: of the flags in `mask`, exactly those in `value` are set.
public struct TCPFlagMatch: Sendable, Equatable, CustomStringConvertible {
    public let mask: UInt8
    public let value: UInt8

    public init(mask: UInt8, value: UInt8) {
        self.mask = mask
        self.value = value
    }

    // The flag bits of byte 13 of the TCP header.
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20
    public static let ece: UInt8 = 0x40
    public static let cwr: UInt8 = 0x80

    /// Every flag in `flags` set, the others free: `tcp flags & FLAGS == FLAGS`.
    public static func has(_ flags: UInt8) -> TCPFlagMatch { TCPFlagMatch(mask: flags, value: flags) }

    /// A SYN that is not a SYN-ACK: `tcp flags & (syn | ack) == syn`.
    public static let synWithoutAck = TCPFlagMatch(mask: syn | ack, value: syn)

    public var description: String { "tcp flags & \(hex(mask)) == \(hex(value))" }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "0x" + (digits.count < 2 ? "0" + digits : digits)
    }
}

/// Which packets of one namespace go to the NFQUEUE: all conditions must hold.
/// A rule with an address applies to that address's family only; a rule without
/// one to IPv4 and IPv6 packets alike.
public struct QueueRule: Sendable, Equatable {
    public enum Hook: Sendable, Equatable {
        /// Packets leaving (locally sent or forwarded): nft `hook postrouting`.
        case postrouting
        /// Packets arriving, before routing: nft `hook prerouting`.
        case prerouting
    }

    public var hook: Hook
    /// `oifname "eth0"` (postrouting only: prerouting packets have no output interface yet).
    public var outputInterface: String?
    /// `iifname "eth0"`.
    public var inputInterface: String?
    /// `meta l4proto tcp`; false = every packet of the family. Ports and flags
    /// imply TCP: they are matched only together with `meta l4proto tcp`.
    public var tcpOnly: Bool
    /// All must hold (empty: any flags).
    public var tcpFlags: [TCPFlagMatch]
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var source: AddressPrefix?
    public var destination: AddressPrefix?

    public init(hook: Hook, outputInterface: String? = nil, inputInterface: String? = nil, tcpOnly: Bool = true,
                tcpFlags: [TCPFlagMatch] = [], sourcePort: UInt16? = nil, destinationPort: UInt16? = nil,
                source: AddressPrefix? = nil, destination: AddressPrefix? = nil) {
        self.hook = hook
        self.outputInterface = outputInterface
        self.inputInterface = inputInterface
        self.tcpOnly = tcpOnly
        self.tcpFlags = tcpFlags
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.source = source
        self.destination = destination
    }

    /// Whether the rule matches TCP only (asked for, or implied by ports or flags).
    var matchesTCP: Bool { tcpOnly || !tcpFlags.isEmpty || sourcePort != nil || destinationPort != nil }

    /// nil: both families; otherwise the family of its addresses.
    var isIPv6: Bool? { (source ?? destination)?.isIPv6 }

    /// Why the rule cannot be installed as meant, one sentence each; empty when it can.
    public var problems: [String] {
        var result: [String] = []
        if let source, let destination, source.isIPv6 != destination.isIPv6 {
            result.append("source \(source) and destination \(destination) are of different address families")
        }
        if outputInterface != nil, hook == .prerouting {
            result.append("an output interface never matches on the prerouting hook (no route is chosen yet)")
        }
        for name in [outputInterface, inputInterface].compactMap({ $0 }) where name.isEmpty || name.utf8.count > 15 {
            result.append("interface name \"\(name)\" must have 1 to 15 bytes (IFNAMSIZ)")
        }
        for flags in tcpFlags where flags.mask == 0 || flags.value & ~flags.mask != 0 {
            result.append("\(flags) is meaningless: the value must be a non-empty subset of the mask")
        }
        return result
    }
}

/// Rules that cannot be installed, each problem prefixed with its rule's position.
public struct QueueRuleError: Error, Equatable, Sendable, CustomStringConvertible {
    public let problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String { "invalid queue rules: " + problems.joined(separator: "; ") }
}

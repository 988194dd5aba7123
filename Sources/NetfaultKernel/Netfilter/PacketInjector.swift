import CNetfault
import Glibc

/// Sends whole IP packets, as they are, from inside a namespace: raw IPPROTO_RAW
/// sockets (header included) for IPv4 and IPv6. Sent packets pass the
/// namespace's output and postrouting hooks like locally made ones, carrying
/// `mark` (SO_MARK) so netfault's queue rules let them through unqueued.
///
/// What the kernel changes: for IPv4 it rewrites the header checksum and total
/// length (and picks an IP ID when it is 0); for IPv6 nothing. It never touches
/// TCP checksums. The source address may be any, even one the namespace does
/// not own (a router re-sending a forwarded packet).
public final class PacketInjector {
    public let mark: UInt32
    private let ipv4: Int32
    private let ipv6: Int32
    private let namespaceName: String

    /// A raw IP socket per family (IPPROTO_RAW, header included) inside
    /// `namespace`, with SO_MARK `mark`.
    public init(namespace: NetworkNamespace, mark: UInt32) throws {
        self.mark = mark
        namespaceName = namespace.name
        var opened: [Int32] = []
        do {
            for family in [AF_INET, AF_INET6] {
                let name = family == AF_INET ? "AF_INET" : "AF_INET6"
                let fd = try Sys.socket(inNamespace: namespace.fd, domain: family, type: Int32(SOCK_RAW.rawValue),
                                        protocol: Int32(IPPROTO_RAW), operation: "socket(\(name), SOCK_RAW, IPPROTO_RAW) in \(namespace.name)")
                opened.append(fd)
                try Sys.setSocketOption(fd, level: SOL_SOCKET, name: SO_MARK, value: Int32(bitPattern: mark),
                                        operation: "setsockopt SO_MARK \(mark) on a raw \(name) socket")
            }
        } catch {
            opened.forEach(Sys.close)
            throw error
        }
        ipv4 = opened[0]
        ipv6 = opened[1]
    }

    deinit {
        Sys.close(ipv4)
        Sys.close(ipv6)
    }

    /// Sends the packet as it is again (e.g. a duplicate), IPv4 or IPv6 by its
    /// version nibble, to the destination address in its header. Equivalent to
    /// writing it to a raw socket (scapy's `send(IP(bytes))`).
    public func send(_ ipPacket: [UInt8]) throws {
        try send(ipPacket[...])
    }

    /// The same for a slice (e.g. a `QueuedPacketView`'s payload), without a copy.
    public func send(_ ipPacket: ArraySlice<UInt8>) throws {
        let destination = try Self.destination(of: ipPacket)
        let fd = destination.count == 16 ? ipv6 : ipv4
        try ipPacket.withUnsafeBytes { bytes in
            try Sys.sendPacket(fd, bytes, destination: destination,
                               operation: "send a \(ipPacket.count)-byte IPv\(destination.count == 16 ? 6 : 4) packet to \(Self.text(destination)) in \(namespaceName)")
        }
    }

    /// The destination address (4 or 16 bytes) of an IPv4 or IPv6 packet, after
    /// checking that its header is there. Pure.
    static func destination(of packet: ArraySlice<UInt8>) throws -> ArraySlice<UInt8> {
        let start = packet.startIndex
        guard let first = packet.first else {
            throw KernelError("inject an empty packet", errno: EINVAL)
        }
        switch first >> 4 {
        case 4:
            let headerLength = Int(first & 0x0F) * 4
            guard packet.count >= 20, headerLength >= 20, headerLength <= packet.count else {
                throw KernelError("inject a \(packet.count)-byte IPv4 packet whose header needs \(max(20, headerLength)) bytes", errno: EINVAL)
            }
            return packet[(start + 16)..<(start + 20)]
        case 6:
            guard packet.count >= 40 else {
                throw KernelError("inject a \(packet.count)-byte IPv6 packet, shorter than its 40-byte header", errno: EINVAL)
            }
            return packet[(start + 24)..<(start + 40)]
        default:
            throw KernelError("inject a packet of IP version \(first >> 4)", errno: EINVAL)
        }
    }

    private static func text(_ address: ArraySlice<UInt8>) -> String {
        IPAddress(bytes: Array(address))?.description ?? "?"
    }
}

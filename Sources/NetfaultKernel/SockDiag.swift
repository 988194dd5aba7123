import CNetfault
import Glibc

/// TCP states as the kernel numbers and spells them (include/net/tcp_states.h, `ss`).
public enum TCPState: String, Codable, Sendable, CaseIterable {
    case established = "ESTABLISHED", synSent = "SYN_SENT", synRecv = "SYN_RECV"
    case finWait1 = "FIN_WAIT1", finWait2 = "FIN_WAIT2", timeWait = "TIME_WAIT"
    case close = "CLOSE", closeWait = "CLOSE_WAIT", lastAck = "LAST_ACK"
    case listen = "LISTEN", closing = "CLOSING"

    public init?(kernelValue: UInt8) {
        switch kernelValue {
        case 1: self = .established
        case 2: self = .synSent
        case 3, 12: self = .synRecv  // 12 is TCP_NEW_SYN_RECV, a request socket
        case 4: self = .finWait1
        case 5: self = .finWait2
        case 6: self = .timeWait
        case 7: self = .close
        case 8: self = .closeWait
        case 9: self = .lastAck
        case 10: self = .listen
        case 11: self = .closing
        default: return nil
        }
    }
}

/// An address and port, printed as `10.77.1.1:8080` or `[fd77::1]:8080`.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible, Codable {
    public let address: IPAddress
    public let port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    public var description: String { address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// Parses what `description` prints: "10.77.1.1:8080", "[fd77::1]:8080".
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
              let address = IPAddress(String(text[..<colon]).trimmingBrackets) else { return nil }
        self.init(address: address, port: port)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let endpoint = Endpoint(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad endpoint \(text)"))
        }
        self = endpoint
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

private extension String {
    var trimmingBrackets: String { hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self }
}

/// The tcp_info fields netfault reports (offsets pinned by _Static_asserts in mirrors.c).
public struct TCPInfo: Equatable, Sendable, Codable {
    public var retransmits: UInt8
    public var probes: UInt8
    public var backoff: UInt8
    public var rtoMicroseconds: UInt32
    public var rttMicroseconds: UInt32
    public var totalRetransmits: UInt32
    public var sendMSS: UInt32
    public var advertisedMSS: UInt32
}

/// One socket from a sock_diag dump.
public struct SocketRecord: Equatable, Sendable {
    public var state: TCPState
    public var local: Endpoint
    public var remote: Endpoint
    /// idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe.
    public var timer: UInt8
    /// idiag_retrans: for request sockets, the SYN-ACKs retransmitted so far.
    public var retransmits: UInt8
    /// Milliseconds until the timer fires.
    public var expiresMilliseconds: UInt32
    public var receiveQueue: UInt32
    public var sendQueue: UInt32
    public var inode: UInt32
    public var cookie: UInt64
    /// Only full sockets carry tcp_info; request and TIME_WAIT sockets do not.
    public var info: TCPInfo?
}

/// sock_diag (NETLINK_SOCK_DIAG) requests and their decoding.
public enum SockDiag {
    static let messageLength = MemoryLayout<inet_diag_msg>.size

    /// Equivalent to `ss -tani` (all TCP sockets of one family, every state,
    /// request and TIME_WAIT sockets included, with tcp_info).
    public static func dumpRequest(family: Int32) -> NetlinkMessage {
        NetlinkMessage(type: UInt16(SOCK_DIAG_BY_FAMILY), flags: .nlDump,
                       operation: "ss -tan (sock_diag dump, family \(family == AF_INET6 ? "inet6" : "inet"))") { m in
            var request = inet_diag_req_v2()
            request.sdiag_family = UInt8(family)
            request.sdiag_protocol = UInt8(IPPROTO_TCP)
            request.idiag_ext = UInt8(1 << (INET_DIAG_INFO - 1))
            // Every state, TCP_ESTABLISHED (1) to TCP_NEW_SYN_RECV (12): not TCP_BOUND_INACTIVE
            // (13, bound sockets that neither listen nor connect), whose dump walks the host's
            // whole bind table (65,536 buckets here, ~70 µs) for sockets netfault never reports.
            request.idiag_states = 0x1FFE
            m.putHeader(request)
        }
    }

    /// Decodes one dump message's payload (inet_diag_msg and its attributes).
    public static func decode(_ payload: ArraySlice<UInt8>) throws -> SocketRecord? {
        guard payload.count >= messageLength else {
            throw NetlinkDecodeError(reason: "inet_diag_msg of \(payload.count) bytes, expected at least \(messageLength)")
        }
        let base = payload.startIndex
        let family = payload[base]
        guard let state = TCPState(kernelValue: payload[base + 1]) else { return nil }
        let addressLength: Int
        switch Int32(family) {
        case AF_INET: addressLength = 4
        case AF_INET6: addressLength = 16
        default: throw NetlinkDecodeError(reason: "inet_diag_msg family \(family)")
        }
        // inet_diag_sockid: sport, dport (network order), src[16], dst[16], if, cookie[2].
        let id = base + 4
        let local = Endpoint(address: IPAddress(bytes: payload[(id + 4)..<(id + 4 + addressLength)])!,
                             port: payload.loadBigEndianU16(at: id))
        let remote = Endpoint(address: IPAddress(bytes: payload[(id + 20)..<(id + 20 + addressLength)])!,
                              port: payload.loadBigEndianU16(at: id + 2))
        let cookie = UInt64(payload.loadU32(at: id + 40)) | UInt64(payload.loadU32(at: id + 44)) << 32
        let tail = id + 48
        var record = SocketRecord(
            state: state, local: local, remote: remote,
            timer: payload[base + 2], retransmits: payload[base + 3],
            expiresMilliseconds: payload.loadU32(at: tail),
            receiveQueue: payload.loadU32(at: tail + 4), sendQueue: payload.loadU32(at: tail + 8),
            inode: payload.loadU32(at: tail + 16), cookie: cookie, info: nil)
        let attributes = try NetlinkDecoder.attributes(payload[(base + Int(nf_nlmsg_align(UInt32(messageLength))))...])
        if let info = attributes[UInt16(INET_DIAG_INFO)], info.count >= 104 {
            let i = info.startIndex
            record.info = TCPInfo(
                retransmits: info[i + 2], probes: info[i + 3], backoff: info[i + 4],
                rtoMicroseconds: info.loadU32(at: i + 8), rttMicroseconds: info.loadU32(at: i + 68),
                totalRetransmits: info.loadU32(at: i + 100), sendMSS: info.loadU32(at: i + 16),
                advertisedMSS: info.loadU32(at: i + 84))
        }
        return record
    }

    /// Every TCP socket of one family in the socket's namespace.
    public static func dump(_ socket: NetlinkSocket, family: Int32) throws -> [SocketRecord] {
        try socket.dump(dumpRequest(family: family)).compactMap { try decode($0.payload) }
    }
}

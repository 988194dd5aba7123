import Foundation
import Glibc
import Testing
@testable import NetfaultKernel

/// SockDiag.decode on hand-built inet_diag_msg records (linux/inet_diag.h):
///
///   0 family  1 state  2 timer  3 retrans
///   4 sockid: 4 sport(be16) 6 dport(be16) 8 src[16] 24 dst[16] 40 if 44 cookie[2]
///   52 expires  56 rqueue  60 wqueue  64 uid  68 inode   (72 bytes)
@Suite struct SockDiagTests {
    static let INET_DIAG_INFO: UInt16 = 2, INET_DIAG_SHUTDOWN: UInt16 = 8

    static func diagMessage(family: UInt8, state: UInt8, timer: UInt8 = 1, retrans: UInt8 = 2,
                            local: [UInt8]? = nil, localPort: UInt16 = 8080,
                            remote: [UInt8]? = nil, remotePort: UInt16 = 0xC350,
                            cookie: UInt64 = 0x1122_3344_5566_7788, expires: UInt32 = 1500,
                            rqueue: UInt32 = 7, wqueue: UInt32 = 9, uid: UInt32 = 1000, inode: UInt32 = 424_242) -> [UInt8] {
        let v6 = family == UInt8(AF_INET6)
        let src = local ?? (v6 ? KT.hex("fd 77 02 50 00 00 00 00 00 00 00 00 00 00 00 01") : [10, 77, 250, 1])
        let dst = remote ?? (v6 ? KT.hex("fd 77 02 50 00 00 00 00 00 00 00 00 00 00 00 02") : [10, 77, 250, 2])
        func field16(_ address: [UInt8]) -> [UInt8] { address + [UInt8](repeating: 0, count: 16 - address.count) }
        let bytes = [family, state, timer, retrans]
            + KT.be16(localPort) + KT.be16(remotePort) + field16(src) + field16(dst)
            + KT.le32(3)  // idiag_if
            + KT.le32(UInt32(truncatingIfNeeded: cookie)) + KT.le32(UInt32(truncatingIfNeeded: cookie >> 32))
            + KT.le32(expires) + KT.le32(rqueue) + KT.le32(wqueue) + KT.le32(uid) + KT.le32(inode)
        precondition(bytes.count == 72)
        return bytes
    }

    /// A tcp_info of `size` bytes filled with 0xEE except the fields netfault reads,
    /// so reading any wrong offset shows up.
    static func tcpInfo(size: Int = 232) -> [UInt8] {
        var info = [UInt8](repeating: 0xEE, count: size)
        func set(_ at: Int, _ bytes: [UInt8]) { if at + bytes.count <= size { info.replaceSubrange(at..<(at + bytes.count), with: bytes) } }
        set(2, [3])                 // tcpi_retransmits
        set(3, [4])                 // tcpi_probes
        set(4, [5])                 // tcpi_backoff
        set(8, KT.le32(204_000))    // tcpi_rto
        set(16, KT.le32(1448))      // tcpi_snd_mss
        set(68, KT.le32(12_345))    // tcpi_rtt
        set(84, KT.le32(1460))      // tcpi_advmss
        set(100, KT.le32(17))       // tcpi_total_retrans
        return info
    }

    static let expectedInfo = TCPInfo(retransmits: 3, probes: 4, backoff: 5, rtoMicroseconds: 204_000,
                                      rttMicroseconds: 12_345, totalRetransmits: 17, sendMSS: 1448, advertisedMSS: 1460)

    @Test func decodesAnIPv4RecordWithTCPInfo() throws {
        let payload = Self.diagMessage(family: UInt8(AF_INET), state: 1)
            + KT.attribute(Self.INET_DIAG_SHUTDOWN, [0]) + KT.attribute(Self.INET_DIAG_INFO, Self.tcpInfo())
        let record = try #require(try SockDiag.decode(payload[...]))
        #expect(record.state == .established)
        #expect(record.local == Endpoint(address: IPAddress("10.77.250.1")!, port: 8080))
        #expect(record.remote == Endpoint(address: IPAddress("10.77.250.2")!, port: 50_000))
        #expect(record.local.description == "10.77.250.1:8080")
        #expect(record.timer == 1 && record.retransmits == 2)
        #expect(record.expiresMilliseconds == 1500)
        #expect(record.receiveQueue == 7 && record.sendQueue == 9)
        #expect(record.inode == 424_242)
        #expect(record.cookie == 0x1122_3344_5566_7788)
        #expect(record.info == Self.expectedInfo)
    }

    @Test func decodesAnIPv6Record() throws {
        let payload = Self.diagMessage(family: UInt8(AF_INET6), state: 10, localPort: 443, remotePort: 0)
            + KT.attribute(Self.INET_DIAG_INFO, Self.tcpInfo())
        let record = try #require(try SockDiag.decode(payload[...]))
        #expect(record.state == .listen)
        #expect(record.local == Endpoint(address: IPAddress("fd77:250::1")!, port: 443))
        #expect(record.remote == Endpoint(address: IPAddress("fd77:250::2")!, port: 0))
        #expect(record.local.description == "[fd77:250::1]:443")
        #expect(record.info == Self.expectedInfo)
    }

    @Test func decodesFromASliceWithAnOffset() throws {
        let payload = [0xFF, 0xFF] + Self.diagMessage(family: UInt8(AF_INET), state: 2, localPort: 1, remotePort: 0xFFFF)
            + KT.attribute(Self.INET_DIAG_INFO, Self.tcpInfo())
        let record = try #require(try SockDiag.decode(payload[2...]))
        #expect(record.state == .synSent)
        #expect(record.local.port == 1 && record.remote.port == 65535)
        #expect(record.info == Self.expectedInfo)
    }

    @Test func newSynRecvIsSynRecv() throws {
        let record = try #require(try SockDiag.decode(Self.diagMessage(family: UInt8(AF_INET), state: 12)[...]))
        #expect(record.state == .synRecv)
        #expect(record.state.rawValue == "SYN_RECV")
    }

    @Test(arguments: [UInt8(0), 13, 14, 255])
    func unknownStateIsNil(state: UInt8) throws {
        #expect(try SockDiag.decode(Self.diagMessage(family: UInt8(AF_INET), state: state)[...]) == nil)
    }

    @Test func recordWithoutTCPInfoHasNoInfo() throws {
        // TIME_WAIT and request sockets carry no INET_DIAG_INFO.
        let bare = try #require(try SockDiag.decode(Self.diagMessage(family: UInt8(AF_INET), state: 6)[...]))
        #expect(bare.state == .timeWait && bare.info == nil)
        let other = Self.diagMessage(family: UInt8(AF_INET6), state: 6) + KT.attribute(Self.INET_DIAG_SHUTDOWN, [3])
        #expect(try SockDiag.decode(other[...])?.info == nil)
    }

    @Test func tcpInfoMustReachTotalRetrans() throws {
        let short = Self.diagMessage(family: UInt8(AF_INET), state: 1) + KT.attribute(Self.INET_DIAG_INFO, Self.tcpInfo(size: 103))
        #expect(try SockDiag.decode(short[...])?.info == nil)
        let exact = Self.diagMessage(family: UInt8(AF_INET), state: 1) + KT.attribute(Self.INET_DIAG_INFO, Self.tcpInfo(size: 104))
        #expect(try SockDiag.decode(exact[...])?.info == Self.expectedInfo)
    }

    @Test func shortRecordThrows() {
        let record = Self.diagMessage(family: UInt8(AF_INET), state: 1)
        #expect(throws: NetlinkDecodeError.self) { try SockDiag.decode(record.prefix(71)) }
        #expect(throws: NetlinkDecodeError.self) { try SockDiag.decode([UInt8]()[...]) }
    }

    @Test func unknownFamilyThrows() {
        #expect(throws: NetlinkDecodeError.self) { try SockDiag.decode(Self.diagMessage(family: 7, state: 1)[...]) }
    }

    @Test func malformedAttributesThrow() {
        let payload = Self.diagMessage(family: UInt8(AF_INET), state: 1) + KT.le16(200) + KT.le16(2) + [0, 0, 0, 0]
        #expect(throws: NetlinkDecodeError.self) { try SockDiag.decode(payload[...]) }
    }

    /// include/net/tcp_states.h names, TCP_ prefix dropped, by kernel value.
    @Test func stateRawValuesAreTheKernelSpellings() {
        let names = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
                     "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"]
        for (offset, name) in names.enumerated() {
            #expect(TCPState(kernelValue: UInt8(offset + 1))?.rawValue == name)
            #expect(TCPState(rawValue: name) != nil)
        }
        #expect(TCPState.allCases.count == names.count)
        #expect(Set(TCPState.allCases.map(\.rawValue)) == Set(names))
        #expect(TCPState(kernelValue: 0) == nil)
    }
}

/// A real sock_diag dump from a namespace with the built-in peer in it.
@Suite(.enabled(if: KT.canManageNetworks, KT.needsRoot))
struct SockDiagKernelTests {
    @Test func dumpShowsAListenerOn127001() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-diag4")
            try ns.rtnetlink().perform([Rtnetlink.setUp(index: 1, name: "lo")])
            let peer = try ChildProcess(.peer(PeerScript(["listen", "127.0.0.1", "8080", "hold"])),
                                        in: ns, environment: [:], t0: MonotonicClock.now())
            defer { peer.terminate() }
            let socket = try NetlinkSocket.sockDiag(in: ns)
            var records: [SocketRecord] = []
            let listening = try KT.eventually {
                records = try SockDiag.dump(socket, family: AF_INET)
                return !records.isEmpty
            }
            #expect(listening, "no socket showed up; peer said: \(peer.standardOutput) \(peer.standardError)")
            #expect(records.count == 1)
            let listener = try #require(records.first)
            #expect(listener.state == .listen)
            #expect(listener.local == Endpoint(address: IPAddress("127.0.0.1")!, port: 8080))
            #expect(listener.remote == Endpoint(address: IPAddress("0.0.0.0")!, port: 0))
            #expect(listener.inode != 0 && listener.cookie != 0)
            #expect(listener.info != nil, "a listener is a full socket: it has tcp_info")
            #expect(try SockDiag.dump(socket, family: AF_INET6).isEmpty)

            peer.terminate()
            #expect(peer.waitStatus.map(ChildProcess.exitCode(fromWaitStatus:)) == 128 + SIGTERM)
            #expect(try KT.eventually { try SockDiag.dump(socket, family: AF_INET).isEmpty })
        }
    }

    @Test func dumpShowsBothEndsOfAConnection() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-diag-conn")
            try ns.rtnetlink().perform([Rtnetlink.setUp(index: 1, name: "lo")])
            // The connection completes in the backlog; nobody accepts it.
            let peer = try ChildProcess(.peer(PeerScript(["listen", "127.0.0.1", "8080", "connect", "127.0.0.1", "8080", "hold"])),
                                        in: ns, environment: [:], t0: MonotonicClock.now())
            defer { peer.terminate() }
            let socket = try NetlinkSocket.sockDiag(in: ns)
            var records: [SocketRecord] = []
            let up = try KT.eventually {
                records = try SockDiag.dump(socket, family: AF_INET)
                return records.filter { $0.state == .established }.count == 2
            }
            #expect(up, "records: \(records); peer said: \(peer.standardOutput)")
            #expect(records.count == 3)
            let server = 8080 as UInt16
            let listener = records.first { $0.state == .listen }
            #expect(listener?.local.port == server)
            let client = try #require(records.first { $0.state == .established && $0.remote.port == server })
            let child = try #require(records.first { $0.state == .established && $0.local.port == server })
            #expect(client.local == child.remote)
            #expect(client.remote == child.local)
            #expect(client.local.address == IPAddress("127.0.0.1"))
            #expect(client.cookie != child.cookie)
            let info = try #require(client.info)
            #expect(info.sendMSS > 0 && info.advertisedMSS > 0)
            #expect(info.rtoMicroseconds >= 200_000, "RTO is at least TCP_RTO_MIN")
            #expect(info.rttMicroseconds > 0)
            #expect(info.totalRetransmits == 0)
        }
    }

    @Test func dumpShowsAnIPv6Listener() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-diag6")
            try ns.rtnetlink().perform([Rtnetlink.setUp(index: 1, name: "lo")])
            let peer = try ChildProcess(.peer(PeerScript(["listen", "::1", "8443", "hold"])),
                                        in: ns, environment: [:], t0: MonotonicClock.now())
            defer { peer.terminate() }
            let socket = try NetlinkSocket.sockDiag(in: ns)
            var records: [SocketRecord] = []
            let listening = try KT.eventually {
                records = try SockDiag.dump(socket, family: AF_INET6)
                return !records.isEmpty
            }
            #expect(listening, "peer said: \(peer.standardOutput) \(peer.standardError)")
            let listener = try #require(records.first)
            #expect(listener.state == .listen)
            #expect(listener.local.description == "[::1]:8443")
            #expect(try SockDiag.dump(socket, family: AF_INET).isEmpty)
        }
    }
}

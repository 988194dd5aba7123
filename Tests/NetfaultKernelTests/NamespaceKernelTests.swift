import Foundation
import Glibc
import Testing
@testable import NetfaultKernel

@Suite struct SysctlPathTests {
    @Test func pathOfName() {
        #expect(SysctlAccess.path(of: "net.ipv4.tcp_syn_retries") == "/proc/sys/net/ipv4/tcp_syn_retries")
        #expect(SysctlAccess.path(of: "net.core.somaxconn") == "/proc/sys/net/core/somaxconn")
    }
}

/// Namespaces, sysctls and rtnetlink requests against the real kernel. Every
/// test makes its own namespaces, which vanish when released, and never pins one.
@Suite(.enabled(if: KT.canManageNetworks, KT.needsRoot))
struct NamespaceKernelTests {
    static let NETLINK_ROUTE: Int32 = 0
    static let RTM_GETLINK: UInt16 = 18, RTM_NEWLINK: UInt16 = 16
    static let IFLA_IFNAME: UInt16 = 3, IFLA_MTU: UInt16 = 4

    @Test func freshNamespaceHasOnlyLoopback() throws {
        try KT.leavesNoTrace {
            var identity: String?
            do {
                let ns = try NetworkNamespace(name: "nfkt-fresh")
                let dev = try KT.read("/proc/thread-self/net/dev", in: ns)
                #expect(dev.hasPrefix("Inter-|"), "\(dev)")
                #expect(KT.interfaces(ofNetDev: dev) == ["lo"])
                let root = KT.interfaces(ofNetDev: MachineInfo.readFile("/proc/thread-self/net/dev") ?? "")
                #expect(root.contains("lo") && root.count > 1, "root namespace: \(root)")
                identity = KT.namespaceIdentity(fd: ns.fd)
                let rootIdentity = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
                #expect(identity?.hasPrefix("net:[") == true)
                #expect(identity != rootIdentity)
                #expect(KT.heldNamespaces().contains(identity ?? ""))
            }
            // Released: this process no longer holds it (so the kernel frees it).
            let released = try #require(identity)
            #expect(!KT.heldNamespaces().contains(released))
        }
    }

    /// Made from the nursery: a TCP hash table of its own (so a sock_diag dump does not walk
    /// the host's), with the table-sized defaults of a namespace that shares the host's.
    @Test func namespaceHasItsOwnTCPTableAndTheUsualDefaults() throws {
        try KT.leavesNoTrace {
            let plain = try NetworkNamespace(name: "nfkt-plain", nursery: nil)
            guard (try? SysctlAccess.read("net.ipv4.tcp_child_ehash_entries", in: plain)) != nil else {
                #expect(NamespaceNursery.shared == nil, "a kernel without per-namespace TCP tables has no nursery")
                return
            }
            let ns = try NetworkNamespace(name: "nfkt-table")
            // The shared table reads as its size, negated.
            #expect(try SysctlAccess.read("net.ipv4.tcp_ehash_entries", in: plain).hasPrefix("-"))
            #expect(try SysctlAccess.read("net.ipv4.tcp_ehash_entries", in: ns) == "\(NamespaceNursery.childBuckets)")
            for name in NamespaceNursery.tableSizedSysctls {
                #expect(try SysctlAccess.read(name, in: ns) == SysctlAccess.read(name, in: plain), "\(name)")
            }
        }
    }

    @Test func twoNamespacesAreDistinct() throws {
        try KT.leavesNoTrace {
            let a = try NetworkNamespace(name: "nfkt-a"), b = try NetworkNamespace(name: "nfkt-b")
            #expect(a.fd != b.fd)
            #expect(KT.namespaceIdentity(fd: a.fd) != KT.namespaceIdentity(fd: b.fd))
        }
    }

    @Test func sysctlRoundTripLeavesTheRootNamespaceAlone() throws {
        try KT.leavesNoTrace {
            let rootPath = "/proc/sys/net/ipv4/tcp_fin_timeout"
            let rootBefore = try #require(MachineInfo.readFile(rootPath))
            let ns = try NetworkNamespace(name: "nfkt-sysctl")
            // A new namespace starts from the kernel default, not the root's value.
            #expect(try SysctlAccess.read("net.ipv4.tcp_fin_timeout", in: ns) == "60")
            let value = rootBefore.trimmingCharacters(in: .whitespacesAndNewlines) == "37" ? "38" : "37"
            try SysctlAccess.write("net.ipv4.tcp_fin_timeout", value, in: ns)
            #expect(try SysctlAccess.read("net.ipv4.tcp_fin_timeout", in: ns) == value)
            #expect(MachineInfo.readFile(rootPath) == rootBefore)
            // A second namespace does not see the first one's value.
            let other = try NetworkNamespace(name: "nfkt-sysctl-2")
            #expect(try SysctlAccess.read("net.ipv4.tcp_fin_timeout", in: other) == "60")
        }
    }

    @Test func writingAnUnknownSysctlThrowsENOENT() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-nosysctl")
            #expect(!MachineInfo.fileExists("/proc/sys/net/ipv4/nfkt_no_such_knob"))
            do {
                try SysctlAccess.write("net.ipv4.nfkt_no_such_knob", "1", in: ns)
                Issue.record("writing an unknown sysctl succeeded")
            } catch let error as KernelError {
                #expect(error.errno == ENOENT, "\(error)")
            }
            #expect(throws: KernelError("open /proc/sys/net/ipv4/nfkt_no_such_knob", errno: ENOENT)) {
                try SysctlAccess.read("net.ipv4.nfkt_no_such_knob", in: ns)
            }
            #expect(!MachineInfo.fileExists("/proc/sys/net/ipv4/nfkt_no_such_knob"))
        }
    }

    @Test func writingAnInvalidSysctlValueThrowsEINVAL() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-badsysctl")
            #expect(throws: KernelError.self) { try SysctlAccess.write("net.ipv4.tcp_fin_timeout", "not-a-number", in: ns) }
            #expect(try SysctlAccess.read("net.ipv4.tcp_fin_timeout", in: ns) == "60")
        }
    }

    // MARK: - rtnetlink requests, performed

    struct Link: Equatable { let index: Int32; let name: String; let mtu: UInt32; let up: Bool }

    /// `ip link show` over the namespace's own socket: RTM_GETLINK dump.
    static func links(in ns: NetworkNamespace) throws -> [Link] {
        let request = NetlinkMessage(type: RTM_GETLINK, flags: .nlDump, operation: "ip link show") { m in
            m.putHeader((UInt64(0), UInt64(0)))  // ifinfomsg, AF_UNSPEC
        }
        #expect(request.bytes.count == 32)
        return try ns.rtnetlink().dump(request).map { message in
            #expect(message.type == RTM_NEWLINK)
            let payload = message.payload, base = payload.startIndex
            let attributes = try NetlinkDecoder.attributes(payload[(base + 16)...])
            let name = attributes[IFLA_IFNAME].map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } ?? "?"
            let mtu = attributes[IFLA_MTU].map { $0.loadU32(at: $0.startIndex) } ?? 0
            return Link(index: Int32(bitPattern: payload.loadU32(at: base + 4)), name: name, mtu: mtu,
                        up: payload.loadU32(at: base + 8) & 1 != 0)  // IFF_UP
        }
    }

    @Test func vethAddressesAndRouteAcrossTwoNamespaces() throws {
        try KT.leavesNoTrace {
            let a = try NetworkNamespace(name: "nfkt-va"), b = try NetworkNamespace(name: "nfkt-vb")
            try a.rtnetlink().perform([
                Rtnetlink.newVeth(name: "nftA", index: 5, peer: "nftB", peerIndex: 6, peerNamespaceFD: b.fd, mtu: 1400),
                Rtnetlink.newAddress(IPAddress("10.77.250.1")!, prefixLength: 24, linkIndex: 5, link: "nftA"),
                Rtnetlink.newAddress(IPAddress("fd77:250::1")!, prefixLength: 64, linkIndex: 5, link: "nftA"),
                Rtnetlink.setUp(index: 1, name: "lo"),
                Rtnetlink.setUp(index: 5, name: "nftA"),
                Rtnetlink.newRoute(destination: IPAddress("10.77.251.0")!, prefixLength: 24, gateway: IPAddress("10.77.250.2")!),
            ])
            try b.rtnetlink().perform([
                Rtnetlink.newAddress(IPAddress("10.77.250.2")!, prefixLength: 24, linkIndex: 6, link: "nftB"),
                Rtnetlink.setUp(index: 6, name: "nftB"),
            ])
            #expect(try Self.links(in: a) == [Link(index: 1, name: "lo", mtu: 65536, up: true),
                                               Link(index: 5, name: "nftA", mtu: 1400, up: true)])
            #expect(try Self.links(in: b) == [Link(index: 1, name: "lo", mtu: 65536, up: false),
                                               Link(index: 6, name: "nftB", mtu: 1400, up: true)])
            #expect(KT.interfaces(ofNetDev: try KT.read("/proc/thread-self/net/dev", in: b)) == ["lo", "nftB"])

            // /proc/net/route: Iface Destination Gateway Flags … in little-endian hex.
            let route = try KT.read("/proc/thread-self/net/route", in: a)
            let rows = route.split(separator: "\n").map { $0.split(whereSeparator: { $0 == "\t" || $0 == " " }) }
            #expect(rows.contains { $0.count > 3 && $0[0] == "nftA" && $0[1] == "00FB4D0A" && $0[2] == "02FA4D0A" }, "\(route)")
            #expect(rows.contains { $0.count > 3 && $0[0] == "nftA" && $0[1] == "00FA4D0A" && $0[2] == "00000000" }, "\(route)")
            // /proc/net/if_inet6: address, ifindex (hex), prefix, scope, flags, name.
            let inet6 = try KT.read("/proc/thread-self/net/if_inet6", in: a)
            #expect(inet6.contains("fd770250000000000000000000000001 05 40 00"), "\(inet6)")

            // The same veth again: the kernel refuses, and the error names the request.
            #expect(throws: KernelError.self) {
                try a.rtnetlink().perform([Rtnetlink.newVeth(name: "nftA", index: 5, peer: "nftB", peerIndex: 6,
                                                             peerNamespaceFD: b.fd, mtu: nil)])
            }
            do {
                try a.rtnetlink().perform([Rtnetlink.newAddress(IPAddress("10.77.250.1")!, prefixLength: 24, linkIndex: 5, link: "nftA")])
                Issue.record("a duplicate address was accepted")
            } catch let error as KernelError {
                #expect(error.errno == EEXIST, "\(error)")
                #expect(error.operation == "ip addr add 10.77.250.1/24 dev nftA")
            }
        }
    }

    /// A real capped extended ack: netfault's sockets set NETLINK_CAP_ACK and
    /// NETLINK_EXT_ACK, so the kernel echoes only the request's header and adds
    /// NLMSGERR_ATTR_MSG. Received raw, then decoded.
    @Test func kernelSendsACappedExtendedAck() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-extack")
            let socket = try NetlinkSocket(namespace: ns, protocol: Self.NETLINK_ROUTE)
            var request = Rtnetlink.newRoute(destination: IPAddress("10.77.251.0")!, prefixLength: 24, gateway: IPAddress("10.77.250.2")!)
            request.setSequence(4242)
            try Sys.send(socket.fd, request.bytes, operation: "test send")
            var buffer = [UInt8](repeating: 0, count: 8192)
            let count = try Sys.receive(socket.fd, into: &buffer, operation: "test receive")
            let messages = try NetlinkDecoder.messages(buffer[0..<count])
            #expect(messages.count == 1)
            let reply = try #require(messages.first)
            #expect(reply.type == 2 && reply.sequence == 4242)
            #expect(reply.flags & 0x100 != 0, "NLM_F_CAPPED")
            #expect(reply.flags & 0x200 != 0, "NLM_F_ACK_TLVS")
            // error, the echoed header (saying 44 bytes), then TLVs, not the 28 bytes of request body.
            #expect(KT.u32(Array(reply.payload), 4) == 44)
            #expect(Array(reply.payload[(reply.payload.startIndex + 8)..<(reply.payload.startIndex + 10)]) == [24, 0])
            let error = try #require(try NetlinkDecoder.error(reply))
            #expect(error.errno == ENETUNREACH)
            #expect(error.kernelMessage == "Nexthop has invalid gateway")
        }
    }

    @Test func performReportsTheKernelMessage() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-perform")
            #expect(throws: KernelError("ip route add 10.77.251.0/24 via 10.77.250.2", errno: ENETUNREACH,
                                        kernelMessage: "Nexthop has invalid gateway")) {
                try ns.rtnetlink().perform([
                    Rtnetlink.setUp(index: 1, name: "lo"),
                    Rtnetlink.newRoute(destination: IPAddress("10.77.251.0")!, prefixLength: 24, gateway: IPAddress("10.77.250.2")!),
                ])
            }
            // The batch went on in order: lo came up before the route failed.
            #expect(try Self.links(in: ns).first?.up == true)
        }
    }
}

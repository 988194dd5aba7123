import CNetfault
import Glibc

/// What the running kernel offers netfault, found by trying each feature for real.
///
/// Every probe that touches the kernel does so inside its own scratch
/// `NetworkNamespace`, held only by a file descriptor and never entered, never
/// pinned under /run/netns: links, qdiscs, nf_tables tables and queue bindings
/// made there vanish with the namespace when the probe returns. The root
/// namespace is never changed. Probes never throw: a failure is a result whose
/// detail carries the `KernelError` text (errno and the kernel's extended ack).
public enum KernelProbes {
    public struct ProbeResult: Sendable, Codable, Equatable {
        public let name: String
        public let present: Bool
        public let detail: String

        public init(name: String, present: Bool, detail: String) {
            self.name = name
            self.present = present
            self.detail = detail
        }
    }

    /// The probe names, in the order `all()` reports them.
    public enum Name {
        public static let privileges = "privileges"
        public static let namespaces = "namespaces"
        public static let veth = "veth"
        public static let sockDiag = "sock_diag"
        public static let nfTables = "nf_tables"
        public static let nfqueueTarget = "xt_NFQUEUE via nft_compat"
        public static let nftQueueExpression = "nft queue expression"
        public static let nfnetlinkQueue = "nfnetlink_queue"
        public static let netem = "sch_netem"
        public static let fq = "sch_fq"
        public static let tcBPF = "tc BPF (clsact, cls_bpf)"
        public static let kernel = "kernel"
        public static let synLinearTimeouts = "tcp_syn_linear_timeouts"
        public static let kernelEvents = "kernel events (BPF)"

        public static let all = [privileges, namespaces, veth, sockDiag, nfTables, nfqueueTarget,
                                 nftQueueExpression, nfnetlinkQueue, netem, fq, tcBPF, kernel, synLinearTimeouts, kernelEvents]
    }

    /// What netfault's core cannot work without.
    public static let coreRequirements = [Name.privileges, Name.namespaces, Name.veth, Name.sockDiag]

    /// Runs every probe, one after the other; each that needs the kernel gets a scratch namespace of its own.
    public static func all() -> [ProbeResult] {
        [
            privileges(),
            namespaces(),
            veth(),
            sockDiag(),
            nfTables(),
            nfqueueTarget(),
            nftQueueExpression(),
            nfnetlinkQueue(),
            netem(),
            fq(),
            tcBPF(),
            kernel(),
            synLinearTimeouts(),
            kernelEvents(),
        ]
    }

    /// The TCP event programs load, pass the verifier and attach (they stay loaded for the
    /// process: a run's scenarios share them, attached while one observes). Missing:
    /// scenarios run on sampling alone.
    public static func kernelEvents() -> ProbeResult {
        switch KernelEvents.shared {
        case .success(let events):
            let reasons = events.dropReasons.count
            return ProbeResult(name: Name.kernelEvents, present: true,
                               detail: "\(events.programCount) tp_btf programs load and attach (\(Int((events.loadSeconds * 1000).rounded())) ms); "
                                   + "\(reasons) drop reasons from BTF" + (events.resetReasons.isEmpty ? "" : ", \(events.resetReasons.count) reset reasons"))
        case .failure(let unavailable):
            return ProbeResult(name: Name.kernelEvents, present: false, detail: unavailable.reason + "; scenarios run on sampling alone")
        }
    }

    /// The core requirements (`coreRequirements`) that `results` show missing or
    /// do not contain at all; empty when netfault can run. Details are in `results`.
    public static func canRun(_ results: [ProbeResult]) -> [String] {
        coreRequirements.filter { name in
            !(results.first { $0.name == name }?.present ?? false)
        }
    }

    // MARK: - Probes

    /// Root, or CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces, links, nfnetlink).
    public static func privileges() -> ProbeResult {
        let present = Privileges.canManageNetworks
        let detail: String
        if Sys.effectiveUserID() == 0 {
            detail = "running as root (euid 0)"
        } else if present {
            detail = "euid \(Sys.effectiveUserID()) with CAP_NET_ADMIN and CAP_SYS_ADMIN"
        } else {
            detail = "euid \(Sys.effectiveUserID()) without CAP_NET_ADMIN and CAP_SYS_ADMIN: run as root"
        }
        return ProbeResult(name: Name.privileges, present: present, detail: detail)
    }

    /// Equivalent to `ip netns add` without the mount (unshare(CLONE_NEWNET) on a throw-away thread).
    public static func namespaces() -> ProbeResult {
        probe(Name.namespaces) { _ in "created a network namespace held by an fd" }
    }

    /// Equivalent to `ip link add nfprobe-a type veth peer name nfprobe-b` inside the scratch namespace.
    public static func veth() -> ProbeResult {
        probe(Name.veth) { namespace in
            try namespace.rtnetlink().perform([vethPair(in: namespace)])
            return "veth pair created in a scratch namespace"
        }
    }

    /// Equivalent to `ss -tan` in the scratch namespace, over NETLINK_SOCK_DIAG.
    public static func sockDiag() -> ProbeResult {
        probe(Name.sockDiag) { namespace in
            let sockets = try SockDiag.dump(NetlinkSocket.sockDiag(in: namespace), family: AF_INET)
            return "TCP dump answered (\(sockets.count) sockets in a scratch namespace)"
        }
    }

    /// Equivalent to what `nft` asks first: NFT_MSG_GETGEN, the ruleset generation.
    public static func nfTables() -> ProbeResult {
        probe(Name.nfTables) { namespace in
            let socket = try NetlinkSocket(namespace: namespace, protocol: NETLINK_NETFILTER)
            let request = NetlinkMessage(type: Nfnetlink.type(Nfnetlink.subsysNFTables, Nfnetlink.msgGetGen), flags: .nlRequestAck,
                                         operation: "nft list ruleset (NFT_MSG_GETGEN)") { m in
                m.putHeader(Nfnetlink.genHeader(family: UInt8(AF_UNSPEC), resourceID: 0))
            }
            let replies = try socket.perform([request])
            let generation = replies.first { $0.type == Nfnetlink.type(Nfnetlink.subsysNFTables, Nfnetlink.msgNewGen) }
                .flatMap { try? Nfnetlink.attributes($0) }?[Nfnetlink.genID].flatMap(Nfnetlink.bigEndianU32)
            return "nf_tables answered NFT_MSG_GETGEN" + (generation.map { " (generation \($0))" } ?? "")
        }
    }

    /// Equivalent to what `iptables-nft -j NFQUEUE` asks nft_compat: whether the
    /// xtables NFQUEUE target, revision 3, exists for IPv4.
    public static func nfqueueTarget() -> ProbeResult {
        probe(Name.nfqueueTarget) { namespace in
            let socket = try NetlinkSocket(namespace: namespace, protocol: NETLINK_NETFILTER)
            let request = NetlinkMessage(type: Nfnetlink.type(Nfnetlink.subsysNFTCompat, Nfnetlink.msgCompatGet), flags: .nlRequestAck,
                                         operation: "nft_compat get target NFQUEUE rev 3") { m in
                m.putHeader(Nfnetlink.genHeader(family: Nfnetlink.protoIPv4, resourceID: 0))
                m.put(Nfnetlink.compatName, string: "NFQUEUE")
                m.put(Nfnetlink.compatRevision, bytes: Nfnetlink.bigEndian(UInt32(3)))
                m.put(Nfnetlink.compatType, bytes: Nfnetlink.bigEndian(UInt32(1)))  // 1: target, 0: match
            }
            let replies = try socket.perform([request])
            let best = replies.first { $0.type == Nfnetlink.type(Nfnetlink.subsysNFTCompat, Nfnetlink.msgCompatGet) }
                .flatMap { try? Nfnetlink.attributes($0) }?[Nfnetlink.compatRevision].flatMap(Nfnetlink.bigEndianU32)
            return "NFQUEUE target rev 3 available" + (best.map { $0 != 3 ? " (best revision \($0))" : "" } ?? "")
        }
    }

    /// Equivalent to `nft add table ip nfprobe; nft add chain ip nfprobe c;
    /// nft add rule ip nfprobe c queue num 0` in one transaction: the rule is
    /// acked when the native `queue` expression exists, ENOENT when it does not.
    public static func nftQueueExpression() -> ProbeResult {
        probe(Name.nftQueueExpression) { namespace in
            let socket = try NetlinkSocket(namespace: namespace, protocol: NETLINK_NETFILTER)
            let family = Nfnetlink.protoIPv4
            let table = "nfprobe", chain = "c"
            let create = Int32.nlCreateExclusive
            let messages = [
                Nfnetlink.batch(Nfnetlink.msgBatchBegin),
                NetlinkMessage(type: Nfnetlink.type(Nfnetlink.subsysNFTables, Nfnetlink.msgNewTable), flags: create,
                               operation: "nft add table ip \(table)") { m in
                    m.putHeader(Nfnetlink.genHeader(family: family, resourceID: 0))
                    m.put(Nfnetlink.tableName, string: table)
                },
                NetlinkMessage(type: Nfnetlink.type(Nfnetlink.subsysNFTables, Nfnetlink.msgNewChain), flags: create,
                               operation: "nft add chain ip \(table) \(chain)") { m in
                    m.putHeader(Nfnetlink.genHeader(family: family, resourceID: 0))
                    m.put(Nfnetlink.chainTable, string: table)
                    m.put(Nfnetlink.chainName, string: chain)
                },
                NetlinkMessage(type: Nfnetlink.type(Nfnetlink.subsysNFTables, Nfnetlink.msgNewRule), flags: create | Nfnetlink.flagAppend,
                               operation: "nft add rule ip \(table) \(chain) queue num 0") { m in
                    m.putHeader(Nfnetlink.genHeader(family: family, resourceID: 0))
                    m.put(Nfnetlink.ruleTable, string: table)
                    m.put(Nfnetlink.ruleChain, string: chain)
                    m.nest(Nfnetlink.ruleExpressions) {
                        m.nest(Nfnetlink.listElement) {
                            m.put(Nfnetlink.expressionName, string: "queue")
                            m.nest(Nfnetlink.expressionData) {
                                m.put(Nfnetlink.queueNumber, bytes: Nfnetlink.bigEndian(UInt16(0)))
                            }
                        }
                    }
                },
                Nfnetlink.batch(Nfnetlink.msgBatchEnd),
            ]
            // The batch markers are never acked (the begin one only answers a failure).
            try socket.perform(messages, unacknowledged: [0, messages.count - 1])
            return "rule with the queue expression accepted"
        }
    }

    /// Equivalent to what `nfqueue` listeners do first: bind this socket to queue 0
    /// (NFQNL_CFG_CMD_BIND) in the scratch namespace; the binding ends with the socket.
    public static func nfnetlinkQueue() -> ProbeResult {
        probe(Name.nfnetlinkQueue) { namespace in
            let socket = try NetlinkSocket(namespace: namespace, protocol: NETLINK_NETFILTER)
            let bind = NetlinkMessage(type: Nfnetlink.type(Nfnetlink.subsysQueue, Nfnetlink.queueMsgConfig), flags: .nlRequestAck,
                                      operation: "nfnetlink_queue bind queue 0") { m in
                m.putHeader(Nfnetlink.genHeader(family: UInt8(AF_UNSPEC), resourceID: 0))  // res_id: the queue number
                // struct nfqnl_msg_config_cmd { u8 command; u8 _pad; be16 pf; }
                let pf = Nfnetlink.bigEndian(UInt16(AF_INET))
                m.put(Nfnetlink.queueConfigCommand, bytes: [Nfnetlink.queueCommandBind, 0, pf[0], pf[1]])
            }
            try socket.perform([bind])
            return "bound to queue 0 in a scratch namespace"
        }
    }

    /// Equivalent to `tc qdisc add dev nfprobe-a root handle 1: netem limit 1000`, the
    /// same request the netem backend sends
    /// on a veth made for it in the scratch namespace.
    public static func netem() -> ProbeResult {
        probe(Name.netem) { namespace in
            let route = try namespace.rtnetlink()
            try route.perform([vethPair(in: namespace)])
            let qdisc = Rtnetlink.newNetem(interfaceIndex: vethIndex, interface: vethName, options: NetemOptions())
            try route.perform([qdisc])
            return "netem qdisc created on a veth in a scratch namespace"
        }
    }

    public static func kernel() -> ProbeResult {
        ProbeResult(name: Name.kernel, present: true, detail: MachineInfo.kernelRelease)
    }

    /// net.ipv4.tcp_syn_linear_timeouts (Linux ≥ 6.5), as a new namespace sees it.
    public static func synLinearTimeouts() -> ProbeResult {
        let name = "net.ipv4.tcp_syn_linear_timeouts"
        return probe(Name.synLinearTimeouts) { namespace in
            "\(name) = \(try SysctlAccess.read(name, in: namespace)) in a new namespace (Linux ≥ 6.5)"
        }
    }

    // MARK: - Helpers

    static let vethName = "nfprobe-a"
    static let vethIndex: Int32 = 10

    static func vethPair(in namespace: NetworkNamespace) -> NetlinkMessage {
        Rtnetlink.newVeth(name: vethName, index: vethIndex, peer: "nfprobe-b", peerIndex: vethIndex + 1,
                          peerNamespaceFD: namespace.fd, mtu: nil)
    }

    /// Runs `body` with a scratch namespace that is released when it returns;
    /// any error becomes a missing result with the error's text.
    static func probe(_ name: String, _ body: (NetworkNamespace) throws -> String) -> ProbeResult {
        do {
            let detail = try body(NetworkNamespace(name: "netfault-probe"))
            return ProbeResult(name: name, present: true, detail: detail)
        } catch {
            return ProbeResult(name: name, present: false, detail: String(describing: error))
        }
    }
}

import CNetfault
import CNetfaultBPF
import Glibc

extension Rtnetlink {
    /// Equivalent to `tc filter add dev NAME egress|ingress pref PRIORITY bpf direct-action fd FD name LABEL`:
    /// a cls_bpf classifier on the clsact hook (`newClsact`), the program's return value its verdict.
    public static func newBPFFilter(interfaceIndex: Int32, interface: String, egress: Bool, programFD: Int32, label: String,
                                    priority: UInt16 = 1) -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_NEWTFILTER), flags: .nlCreateExclusive,
                       operation: "tc filter add dev \(interface) \(egress ? "egress" : "ingress") pref \(priority) bpf da fd \(programFD) name \(label)") { m in
            var header = tcmsg()
            header.tcm_family = UInt8(AF_UNSPEC)
            header.tcm_ifindex = interfaceIndex
            // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS or TC_H_MIN_INGRESS)
            header.tcm_parent = egress ? 0xFFFF_FFF3 : 0xFFFF_FFF2
            // TC_H_MAKE(priority << 16, htons(ETH_P_ALL)): the filter sees every protocol.
            header.tcm_info = UInt32(priority) << 16 | UInt32(UInt16(0x0003).bigEndian)
            m.putHeader(header)
            m.put(UInt16(TCA_KIND), string: "bpf")
            m.nest(UInt16(TCA_OPTIONS)) {
                m.put(6, u32: UInt32(bitPattern: programFD))   // TCA_BPF_FD
                m.put(7, string: label)                         // TCA_BPF_NAME
                m.put(8, u32: 1)                                // TCA_BPF_FLAGS: TCA_BPF_FLAG_ACT_DIRECT
            }
        }
    }
}

extension KernelProbes {
    /// Equivalent to `tc qdisc add dev nfprobe-a root handle 1: fq … horizon 2000000us nopacing`, the
    /// request the in-kernel engine sends for a delay, on a veth in a scratch namespace; the
    /// dump must show the horizon back (fq without one is older than 5.8).
    public static func fq() -> ProbeResult {
        probe(Name.fq) { namespace in
            let route = try namespace.rtnetlink()
            try route.perform([vethPair(in: namespace)])
            let options = FQOptions.holding(1)
            try route.perform([Rtnetlink.newFQ(interfaceIndex: vethIndex, interface: vethName, options: options)])
            let qdisc = try route.dump(Rtnetlink.dumpQdiscs()).map(Rtnetlink.qdisc).first { $0.interfaceIndex == vethIndex && $0.isRoot }
            guard qdisc?.kind == "fq", let raw = qdisc?.options else {
                throw KernelError("tc qdisc show dev \(vethName)", errno: ENOENT, kernelMessage: "no fq root qdisc after creating one")
            }
            let back = try FQOptions(kernelOptions: raw)
            return "fq root qdisc with a horizon of \(back.horizonMicroseconds) µs created on a veth in a scratch namespace"
        }
    }

    /// Loads a pass-everything SCHED_CLS program and attaches it as a direct-action cls_bpf
    /// filter on clsact egress and ingress of a veth in a scratch namespace (equivalent to
    /// `tc qdisc add dev nfprobe-a clsact; tc filter add dev nfprobe-a egress bpf da fd …`),
    /// loads the fault engine (bpf/fault_engine.bpf.c) through the verifier and frees it, and
    /// says whether the kernel takes tcx links (6.6 on), where `fault_peer` goes.
    public static func tcBPF() -> ProbeResult {
        probe(Name.tcBPF) { namespace in
            var log = [CChar](repeating: 0, count: 4096)
            let fd = nf_bpf_load_pass_classifier(&log, log.count)
            if fd < 0 {
                throw BPFError("load a BPF_PROG_TYPE_SCHED_CLS program", errno: -fd,
                               log: String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            defer { Sys.close(fd) }
            let route = try namespace.rtnetlink()
            try route.perform([vethPair(in: namespace)])
            try route.perform([Rtnetlink.newClsact(interfaceIndex: vethIndex, interface: vethName),
                               Rtnetlink.newBPFFilter(interfaceIndex: vethIndex, interface: vethName, egress: true, programFD: fd, label: "nf_probe"),
                               Rtnetlink.newBPFFilter(interfaceIndex: vethIndex, interface: vethName, egress: false, programFD: fd, label: "nf_probe")])
            // The engine itself must pass this kernel's verifier (Debian's 6.1 refused it once, EACCES).
            let engine = try TCFaultEngine(rules: [], impairments: [], seed: 0, t0: 0, skipMark: 0)
            engine.close()
            // Where fault_peer goes (TCFaultEngine.attachPeer): a tcx link if the kernel has them.
            var linkFD: Int32 = -1
            var stage = [CChar](repeating: 0, count: 64)
            let linked = nf_tcx_attach_ingress(namespace.fd, vethIndex, fd, &linkFD, &stage, stage.count)
            if linkFD >= 0 { Sys.close(linkFD) }
            let tcx = linked == 0 ? "tcx links too (fault_peer takes one)"
                : linked == -EINVAL ? "no tcx links (before Linux 6.6: fault_peer is a clsact filter)"
                : "tcx link refused (\(BPFError("bpf link create tcx_ingress", errno: -linked)))"
            return "a SCHED_CLS program attaches as a direct-action cls_bpf filter on clsact egress and ingress; \(tcx); the fault engine loads"
        }
    }
}

extension Rtnetlink {
    /// Equivalent to `ip -d link show` (every link of the namespace; `gsoMaxSegments(_:)` reads one answer).
    public static func dumpLinks() -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_GETLINK), flags: .nlDump, operation: "ip -d link show") { m in
            var info = ifinfomsg()
            info.ifi_family = UInt8(AF_UNSPEC)
            m.putHeader(info)
        }
    }

    /// A `dumpLinks()` answer's link index and `gso_max_segs` (IFLA_GSO_MAX_SEGS), when it has one.
    public static func gsoMaxSegments(_ message: ReceivedMessage) throws -> (index: Int32, segments: UInt32?) {
        let size = MemoryLayout<ifinfomsg>.size
        let payload = message.payload, base = payload.startIndex
        guard message.type == UInt16(RTM_NEWLINK), payload.count >= size else {
            throw NetlinkDecodeError(reason: "RTM_NEWLINK expected (type \(message.type), \(payload.count) bytes)")
        }
        let attributes = try NetlinkDecoder.attributes(payload[(base + size)...])
        let segments = attributes[UInt16(IFLA_GSO_MAX_SEGS)].flatMap { $0.count >= 4 ? $0.loadU32(at: $0.startIndex) : nil }
        return (Int32(bitPattern: payload.loadU32(at: base + 4)), segments)
    }
}

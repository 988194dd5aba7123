import NetfaultKernel

/// Which fault backends this kernel offers, probed once per process in scratch
/// namespaces (see `KernelProbes`).
public struct FaultBackends: Sendable {
    /// How the NFQUEUE backend queues packets; nil when it cannot.
    public let queueTarget: QueueTarget?
    /// Whether netem qdiscs can be made.
    public let netem: Bool
    /// tc BPF programs load and attach (clsact, cls_bpf): faults can run in the kernel.
    public let tcBPF: Bool
    /// sch_fq with a horizon: the in-kernel engine can hold packets.
    public let fq: Bool
    /// Why a backend is missing, for skip reasons and `doctor`.
    public let queueProblem: String?
    /// Why netem is missing, for skip reasons.
    public let netemProblem: String?
    /// Why tc-BPF faults cannot run here (nil when they can).
    public let tcBPFProblem: String?
    /// Why `sch_fq` is missing here (nil when present).
    public let fqProblem: String?

    /// The backends the probes found.
    public init(probes: [KernelProbes.ProbeResult]) {
        func probe(_ name: String) -> KernelProbes.ProbeResult? { probes.first { $0.name == name } }
        let queue = probe(KernelProbes.Name.nfnetlinkQueue)
        if queue?.present != true {
            queueTarget = nil
        } else if probe(KernelProbes.Name.nftQueueExpression)?.present == true {
            queueTarget = .nativeExpression
        } else if probe(KernelProbes.Name.nfqueueTarget)?.present == true {
            queueTarget = .compatTarget
        } else {
            queueTarget = nil
        }
        queueProblem = queueTarget != nil ? nil
            : "this kernel cannot queue packets to userspace (nfnetlink_queue: \(queue?.detail ?? "not probed"); "
              + "neither the nft queue expression nor the xtables NFQUEUE target is available)"
        let netemProbe = probe(KernelProbes.Name.netem)
        netem = netemProbe?.present == true
        netemProblem = netem ? nil : "this kernel has no sch_netem (\(netemProbe?.detail ?? "not probed"))"
        let bpfProbe = probe(KernelProbes.Name.tcBPF)
        tcBPF = bpfProbe?.present == true
        tcBPFProblem = tcBPF ? nil : "this kernel cannot attach tc BPF programs (\(bpfProbe?.detail ?? "not probed"))"
        let fqProbe = probe(KernelProbes.Name.fq)
        fq = fqProbe?.present == true
        fqProblem = fq ? nil : "this kernel has no sch_fq (\(fqProbe?.detail ?? "not probed"))"
    }

    /// Probed at first use.
    public static let current = FaultBackends(probes: [
        KernelProbes.nfqueueTarget(), KernelProbes.nftQueueExpression(), KernelProbes.nfnetlinkQueue(), KernelProbes.netem(),
        KernelProbes.fq(), KernelProbes.tcBPF(),
    ])

    /// What `FaultPlan` needs to choose backends.
    public var support: KernelFaultSupport {
        KernelFaultSupport(tcBPF: tcBPF, tcBPFProblem: tcBPFProblem, fq: fq, fqProblem: fqProblem, netem: netem,
                           netemProblem: netemProblem)
    }

    /// "nfqueue (xtables NFQUEUE target via nft_compat)"
    public var queueDescription: String {
        switch queueTarget {
        case .nativeExpression: "nfqueue (nft queue expression)"
        case .compatTarget: "nfqueue (xtables NFQUEUE target via nft_compat)"
        case nil: "unavailable: \(queueProblem ?? "")"
        }
    }

    /// What `netfault doctor` says about faults: per kind of fault, where it runs on this
    /// kernel under `--fault-backend auto`, and why not in the kernel when it is not.
    public var faultKindLines: [String] {
        let kernel = tcBPF ? "bpf" : nil
        let holding = tcBPF && fq ? "bpf+fq" : nil
        let outside = queueTarget != nil ? "nfqueue" : "unavailable"
        // Short words here: the probes above give the kernel's full answers.
        let noBPF = "no tc BPF", noFQ = tcBPF ? "no sch_fq" : noBPF, noNetem = "no sch_netem"
        func line(_ what: String, _ backend: String?, _ why: String) -> String {
            "\(what.padding(toLength: 44, withPad: " ", startingAt: 0)) \(backend ?? outside)" + (backend == nil ? " (\(why))" : "")
        }
        return [
            line("drop, duplicate (segment faults, partitions)", kernel, noBPF),
            line("delay (segment faults)", holding, noFQ),
            line("reorder with releaseAfter:", nil,
                 "waits for later segments, which a tc program cannot; the host's other faults stay with it"),
            line("impairment loss, duplicate, corrupt", kernel ?? (netem ? "netem" : nil), "\(noBPF), \(noNetem)"),
            line("impairment delay, jitter, reorder", holding ?? (netem ? "netem" : nil), "\(noFQ), \(noNetem)"),
            line("impairment rate", netem ? "netem" : nil, "the in-kernel engine does not pace; \(noNetem)"),
        ]
    }
}

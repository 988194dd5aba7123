import NetfaultKernel

/// Which fault backends this kernel offers, probed once per process in scratch
/// namespaces (see `KernelProbes`).
public struct FaultBackends: Sendable {
    /// How the precise backend queues packets; nil when it cannot.
    public let queueTarget: QueueTarget?
    /// Whether netem qdiscs can be made.
    public let netem: Bool
    /// Why a backend is missing, for skip reasons.
    public let queueProblem: String?
    /// Why netem is missing, for skip reasons.
    public let netemProblem: String?

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
    }

    /// Probed at first use.
    public static let current = FaultBackends(probes: [
        KernelProbes.nfqueueTarget(), KernelProbes.nftQueueExpression(), KernelProbes.nfnetlinkQueue(), KernelProbes.netem(),
    ])

    /// "nfqueue (xtables NFQUEUE target via nft_compat)"
    public var queueDescription: String {
        switch queueTarget {
        case .nativeExpression: "nfqueue (nft queue expression)"
        case .compatTarget: "nfqueue (xtables NFQUEUE target via nft_compat)"
        case nil: "unavailable: \(queueProblem ?? "")"
        }
    }
}

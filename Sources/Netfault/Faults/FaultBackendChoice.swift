/// Which engine runs a scenario's segment faults: `run --fault-backend auto|bpf|nfqueue`
/// and `RunOptions.faultBackend`.
public enum FaultBackendChoice: String, Sendable, Codable, CaseIterable {
    /// In the kernel where this kernel and the faults allow, else NFQUEUE; impairments
    /// in the kernel, else netem, else NFQUEUE.
    case auto
    /// Every fault (and every impairment not asking for netem) in the kernel; a fault
    /// the kernel cannot serve is an error before anything is built.
    case bpf
    /// Every fault and impairment not asking for netem on the NFQUEUE engine.
    case nfqueue
}

/// What this kernel allows the fault backends, as `FaultPlan` needs it: pure, so
/// the choice of backends is tested without the kernel (`FaultBackends` probes it).
public struct KernelFaultSupport: Sendable, Equatable {
    /// tc BPF programs load and attach (clsact, cls_bpf): the in-kernel engine runs.
    public var tcBPF: Bool
    /// Why tc-BPF faults cannot run (nil when they can).
    public var tcBPFProblem: String?
    /// sch_fq exists: the in-kernel engine can hold packets (delays, jitter, time-based reordering).
    public var fq: Bool
    /// Why `sch_fq` is missing (nil when present).
    public var fqProblem: String?
    /// Whether the kernel has `sch_netem`.
    public var netem: Bool
    /// Why `sch_netem` is missing (nil when present).
    public var netemProblem: String?

    /// What the running kernel offers, as probed (or as a test states it).
    public init(tcBPF: Bool, tcBPFProblem: String? = nil, fq: Bool, fqProblem: String? = nil, netem: Bool,
                netemProblem: String? = nil) {
        self.tcBPF = tcBPF
        self.tcBPFProblem = tcBPF ? nil : (tcBPFProblem ?? "this kernel cannot attach tc BPF programs")
        self.fq = fq
        self.fqProblem = fq ? nil : (fqProblem ?? "this kernel has no sch_fq")
        self.netem = netem
        self.netemProblem = netem ? nil : (netemProblem ?? "this kernel has no sch_netem")
    }
}

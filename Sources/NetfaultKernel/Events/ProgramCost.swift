/// One BPF program's runs and run time over a measured stretch, from the kernel's own
/// run-time accounting: what `bpftool prog show` prints as run_cnt and run_time_ns. The
/// kernel counts only while the accounting is on (`counting(_:)`), and not the hook's own
/// call into the program (a tracepoint's, tc's).
public struct ProgramCost: Codable, Sendable, Equatable {
    /// The program (its C function: `capture_departure`, `fault_egress`, …).
    public var program: String
    /// How many times it ran.
    public var runs: UInt64
    /// Its total run time, ns.
    public var nanoseconds: UInt64

    /// A cost of `runs` runs that took `nanoseconds` in all.
    public init(program: String, runs: UInt64, nanoseconds: UInt64) {
        self.program = program
        self.runs = runs
        self.nanoseconds = nanoseconds
    }

    /// Runs `body` with the kernel counting every program's run time: equivalent to
    /// `sysctl kernel.bpf_stats_enabled=1` for its duration, without changing the sysctl
    /// (BPF_ENABLE_STATS holds it on while its descriptor is open). The accounting reads the
    /// clock twice per run, so measure throughput outside it.
    public static func counting<T>(_ body: () throws -> T) throws -> T { try BPFObject.withRunTimeStats(body) }
}

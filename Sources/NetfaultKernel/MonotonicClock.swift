/// CLOCK_MONOTONIC, shared by every network namespace: the time base of a
/// scenario, its peers' events and its samples.
public enum MonotonicClock {
    public static func now() -> Int64 { Sys.monotonicNanoseconds() }

    public static func sleep(nanoseconds: Int64) {
        if nanoseconds > 0 { Sys.sleep(nanoseconds: nanoseconds) }
    }

    public static func sleep(seconds: Double) { sleep(nanoseconds: Int64(seconds * 1e9)) }
}

/// The CPU this process has used, for benchmarks (`netfault bench observation`).
public enum ProcessCPU {
    /// User + system seconds of every thread so far (getrusage RUSAGE_SELF).
    public static func seconds() -> Double { Sys.processCPUSeconds() }
}

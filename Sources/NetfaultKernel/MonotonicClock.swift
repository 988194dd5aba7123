/// CLOCK_MONOTONIC, shared by every network namespace: the time base of a
/// scenario, its peers' events and its samples.
public enum MonotonicClock {
    public static func now() -> Int64 { Sys.monotonicNanoseconds() }

    public static func sleep(nanoseconds: Int64) {
        if nanoseconds > 0 { Sys.sleep(nanoseconds: nanoseconds) }
    }

    public static func sleep(seconds: Double) { sleep(nanoseconds: Int64(seconds * 1e9)) }
}

/// The kernel's tick, which its timers count in (jiffies). A timer armed for `timeout` expires
/// at the tick `timeout` after the one in progress, rounded up a tick at least (the timer wheel's
/// guarantee against firing early), so it never fires early as long as the tick is handled on
/// time. A tick handled late leaves jiffies behind the clock: a timer armed meanwhile counts
/// from a tick that is already past, and fires early by as much as the tick was late.
public enum KernelTick {
    /// The tick's length (1/CONFIG_HZ: 4 ms for Debian's HZ=250).
    public static let length = Double(Sys.coarseResolutionNanoseconds()) / 1e9

    /// How long ago, right now, the kernel last advanced its coarse clock and jiffies: up to one
    /// tick when ticks come on time.
    /// The clock is read first: were this thread preempted between the two readings, the
    /// lag could only come out smaller, never larger than it was.
    public static func lag() -> Double {
        let now = Sys.monotonicNanoseconds()
        return Double(now - Sys.coarseMonotonicNanoseconds()) / 1e9
    }
}

/// The CPU this process has used, for benchmarks (`netfault bench observation`).
public enum ProcessCPU {
    /// User + system seconds of every thread so far (getrusage RUSAGE_SELF).
    public static func seconds() -> Double { Sys.processCPUSeconds() }

    /// User + system seconds of the calling thread so far (CLOCK_THREAD_CPUTIME_ID): what one
    /// piece of synchronous work used, whatever else the process runs alongside.
    public static func threadSeconds() -> Double { Sys.threadCPUSeconds() }
}

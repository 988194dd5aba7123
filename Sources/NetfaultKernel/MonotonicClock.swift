/// CLOCK_MONOTONIC, shared by every network namespace: the time base of a
/// scenario, its peers' events and its samples.
public enum MonotonicClock {
    public static func now() -> Int64 { Sys.monotonicNanoseconds() }

    public static func sleep(nanoseconds: Int64) {
        if nanoseconds > 0 { Sys.sleep(nanoseconds: nanoseconds) }
    }

    public static func sleep(seconds: Double) { sleep(nanoseconds: Int64(seconds * 1e9)) }
}

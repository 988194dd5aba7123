/// netfault's own memory, from /proc/self/status, and CPU time: what `bench output` reports.
public enum ProcessMemory {
    /// User plus system CPU seconds of netfault's own threads (getrusage RUSAGE_SELF: not its children).
    public static func cpuSeconds() -> Double { Sys.ownCPUSeconds() }

    /// VmRSS and VmHWM (the peak since start or the last reset), in bytes.
    public static func current() -> (resident: Int, peak: Int)? {
        guard let status = Sys.readFile("/proc/self/status") else { return nil }
        var values: [String: Int] = [:]
        for line in status.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
            if parts.count >= 2, parts[0] == "VmRSS" || parts[0] == "VmHWM", let kilobytes = Int(parts[1]) {
                values[String(parts[0])] = kilobytes * 1024
            }
        }
        guard let resident = values["VmRSS"], let peak = values["VmHWM"] else { return nil }
        return (resident, peak)
    }

    /// Sets VmHWM back to the current VmRSS (`echo 5 > /proc/self/clear_refs`, Linux 4.0+),
    /// so the next peak is this measurement's own; false if the kernel refused.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let fd = try? Sys.open("/proc/self/clear_refs", forWriting: true) else { return false }
        defer { Sys.close(fd) }
        return (try? Sys.write(fd, "5", operation: "write /proc/self/clear_refs")) != nil
    }
}

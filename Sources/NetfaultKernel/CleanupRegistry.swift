import Foundation

/// What a run has outside its namespaces' file descriptors — pins under
/// /run/netns and child processes — so a signal handler can remove them, and
/// `netfault cleanup` can find pins of runs that were killed.
public enum CleanupRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pins: Set<String> = []
    nonisolated(unsafe) private static var processGroups: Set<pid_t> = []
    /// One marker file per running orchestrator, listing its pins.
    public static let markerDirectory = "/run/netfault"

    static func add(pin path: String) {
        lock.withLock {
            pins.insert(path)
            writeMarker()
        }
    }

    static func remove(pin path: String) {
        lock.withLock {
            pins.remove(path)
            writeMarker()
        }
    }

    static func add(processGroup pid: pid_t) { lock.withLock { _ = processGroups.insert(pid) } }
    static func remove(processGroup pid: pid_t) { lock.withLock { _ = processGroups.remove(pid) } }

    private static var markerPath: String { "\(markerDirectory)/\(Sys.processID()).pins" }

    private static func writeMarker() {
        if pins.isEmpty {
            Sys.unlink(markerPath)
        } else {
            Sys.makeDirectory(markerDirectory)
            try? (pins.sorted().joined(separator: "\n") + "\n").write(toFile: markerPath, atomically: true, encoding: .utf8)
        }
    }

    /// For signal handlers: kill every child process group, unmount every pin.
    /// Namespaces need nothing: they go with this process's file descriptors.
    public static func emergencyCleanup() {
        lock.withLock {
            for group in processGroups { Sys.kill(processGroup: group, signal: SIGKILL) }
            for pin in pins { Sys.unpin(pin) }
            pins.removeAll()
            Sys.unlink(markerPath)
        }
    }

    /// `netfault cleanup`: removes the pins of orchestrators that no longer run.
    /// Only paths listed in netfault's own markers, and only under /run/netns/nf-.
    /// Returns what it removed.
    public static func removeStalePins() -> [String] {
        guard let markers = try? FileManager.default.contentsOfDirectory(atPath: markerDirectory) else { return [] }
        var removed: [String] = []
        for marker in markers where marker.hasSuffix(".pins") {
            guard let pid = Int32(marker.dropLast(".pins".count)), pid != Sys.processID(),
                  !Sys.processExists(pid) else { continue }
            let path = "\(markerDirectory)/\(marker)"
            let listed = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            for pin in listed.split(separator: "\n").map(String.init) where pin.hasPrefix("/run/netns/nf-") && !pin.contains("..") {
                Sys.unpin(pin)
                removed.append(pin)
            }
            Sys.unlink(path)
        }
        return removed
    }
}

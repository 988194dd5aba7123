import CNetfault
import Foundation

/// What a run has outside its namespaces' file descriptors — pins under /run/netns and
/// child process groups — so a signal or a crash can remove them, and `netfault cleanup`
/// can remove what a SIGKILLed run left. The pins and groups live in C (cleanup.c), where a
/// crash handler can read them; a marker file, /run/netfault/<pid>.run, lists for other
/// processes the pins and the process groups of programs (which may have children of their
/// own that PR_SET_PDEATHSIG does not reach).
public enum CleanupRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pins: Set<String> = []
    nonisolated(unsafe) private static var programGroups: Set<pid_t> = []
    public static let markerDirectory = "/run/netfault"
    static let markerSuffix = ".run"

    static func add(pin path: String) throws {
        try lock.withLock {
            let result = nf_cleanup_add_pin(path)
            if result < 0 { throw KernelError("record pin \(path) for cleanup", errno: -result) }
            pins.insert(path)
            writeMarker()
        }
    }

    static func remove(pin path: String) {
        lock.withLock {
            nf_cleanup_remove_pin(path)
            pins.remove(path)
            writeMarker()
        }
    }

    /// `listed`: also in the marker, for a program's group (the peer forks nothing).
    static func add(processGroup pid: pid_t, listed: Bool) throws {
        let result = nf_cleanup_add_group(pid)
        if result < 0 { throw KernelError("record process group \(pid) for cleanup", errno: -result) }
        if listed {
            lock.withLock {
                programGroups.insert(pid)
                writeMarker()
            }
        }
    }

    static func remove(processGroup pid: pid_t) {
        nf_cleanup_remove_group(pid)
        lock.withLock {
            if programGroups.remove(pid) != nil { writeMarker() }
        }
    }

    private static var markerPath: String { "\(markerDirectory)/\(Sys.processID())\(markerSuffix)" }

    private static func writeMarker() {
        // After a signal's or a crash's cleanup, children dying must not bring the marker back.
        if nf_cleanup_started() != 0 { return }
        if pins.isEmpty && programGroups.isEmpty {
            Sys.unlink(markerPath)
            Sys.removeDirectory(markerDirectory)  // fails, as it should, while other runs' markers are there
            return
        }
        Sys.makeDirectory(markerDirectory)
        _ = nf_cleanup_set_marker(markerDirectory, markerPath)
        let lines = pins.sorted().map { "pin \($0)" } + programGroups.sorted().map { "group \($0)" }
        try? (lines.joined(separator: "\n") + "\n").write(toFile: markerPath, atomically: true, encoding: .utf8)
    }

    /// From here on, a crash of this process (SIGSEGV, SIGABRT, a Swift trap …) first
    /// kills the children and removes the pins and the marker.
    public static func installCrashHandlers() { nf_cleanup_install_crash_handlers() }

    /// For SIGINT and SIGTERM: kill every child process group, unmount every pin.
    /// Namespaces need nothing: they go with this process's file descriptors.
    public static func emergencyCleanup() {
        lock.withLock {
            nf_cleanup_now()
            pins.removeAll()
            programGroups.removeAll()
        }
    }

    /// `netfault cleanup`: for each marker of an orchestrator that no longer runs, unmounts
    /// its pins (only under /run/netns/nf-) and kills what is left of its programs' process
    /// groups (only processes outside this network namespace: a group's number can be
    /// reused once its last member is gone, never by a test namespace's process).
    /// Returns what it removed.
    public static func removeStale() -> [String] {
        guard let markers = try? FileManager.default.contentsOfDirectory(atPath: markerDirectory) else { return [] }
        var removed: [String] = []
        let ownNamespace = Sys.networkNamespace(of: Sys.processID())
        for marker in markers where marker.hasSuffix(markerSuffix) {
            guard let pid = Int32(marker.dropLast(markerSuffix.count)), pid != Sys.processID(),
                  !Sys.processIsRunning(pid) else { continue }
            let path = "\(markerDirectory)/\(marker)"
            let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            for line in lines {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if parts[0] == "pin", parts[1].hasPrefix("/run/netns/nf-"), !parts[1].contains("..") {
                    Sys.unpin(parts[1])
                    removed.append("pin \(parts[1])")
                } else if parts[0] == "group", let group = pid_t(parts[1]), group > 1 {
                    for process in Sys.processes(inGroup: group) where Sys.networkNamespace(of: process) != ownNamespace {
                        Sys.kill(process: process, signal: SIGKILL)
                        removed.append("process \(process) (group \(group))")
                    }
                }
            }
            Sys.unlink(path)
        }
        Sys.removeDirectory(markerDirectory)
        return removed
    }
}

import ArgumentParser
import NetfaultKernel

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove what netfault runs that were killed (SIGKILL) left behind.",
        discussion: """
            A run's namespaces and its direct children die with it. What can outlive a SIGKILL: \
            --pin mounts, and processes that a scenario's programs started themselves. This removes \
            exactly what netfault's own markers (/run/netfault/<pid>.run) list for orchestrators that \
            no longer run — pins under /run/netns/nf-, processes of the listed process groups that \
            are inside a test namespace — and nothing else.
            """
    )

    func run() throws {
        let removed = CleanupRegistry.removeStale()
        print(removed.isEmpty ? "nothing to remove" : removed.map { "removed \($0)" }.joined(separator: "\n"))
    }
}

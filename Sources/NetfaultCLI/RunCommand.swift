import ArgumentParser
import Foundation
import Netfault
import NetfaultKernel

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run scenarios and check their expectations.",
        discussion: "Every scenario is validated before anything is built; an invalid one stops the run with exit code 2."
    )

    @Argument(help: "Scenario IDs (see `netfault list`).")
    var ids: [String] = []

    @Flag(help: "Run the whole catalog.")
    var all = false

    @Option(help: ArgumentHelp("Run only shard I of N (1-based) of the selection: for CI matrices; the shards together run everything once.",
                               valueName: "I/N"))
    var shard: Shard?

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Write JUnit XML to this file.")
    var junit: String?

    @Option(help: "How many scenarios run at once (default 4; 1 where the CPU is emulated, e.g. QEMU without KVM).")
    var parallel: Int?

    @Flag(help: "Mount each namespace under /run/netns/nf-<run>-<scenario>-<host> so `ip netns exec` can attach.")
    var pin = false

    @Flag(help: "Print every scenario's sockets, processes and counters after the summary.")
    var verbose = false

    @Option(help: ArgumentHelp("Write each host's capture to DIR/<scenario id>/<host>.pcapng, faulted segments commented, dropped ones included.", valueName: "DIR"))
    var pcap: String?

    @Option(help: ArgumentHelp("Write each process's complete stdout and stderr, streamed while it runs, to DIR/<scenario id>/<process>.stdout and .stderr.", valueName: "DIR"))
    var artifacts: String?

    @Option(help: "Write a self-contained HTML report to this file.")
    var html: String?

    @Flag(help: "Print a ladder diagram of every scenario's segments.")
    var ladder = false

    @Flag(help: "Observe sockets by sampling alone, without the kernel's TCP events (expectations that need them are skipped).")
    var noEvents = false

    @Option(help: ArgumentHelp("Where segment faults run: auto (in the kernel where it can, else NFQUEUE), bpf (in the kernel; a fault it cannot serve is an error, exit 4), nfqueue.",
                               valueName: "auto|bpf|nfqueue"))
    var faultBackend: FaultBackendChoice = .auto

    @OptionGroup var tuning: TuningOptions

    func validate() throws {
        try OutputPaths.check([.file("--json", json), .file("--junit", junit), .file("--html", html),
                               .directory("--pcap", pcap), .directory("--artifacts", artifacts)])
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if all && !ids.isEmpty { throw ValidationError("name scenario IDs or --all, not both") }
    }

    func run() throws {
        var scenarios = try Selection.scenarios(ids, all: all)
        if let shard { scenarios = shard.select(scenarios) }
        scenarios = try tuning.apply(to: scenarios)
        try Preflight.check(scenarios, faultBackend: faultBackend)
        SignalCleanup.install()
        let interactive = isatty(STDERR_FILENO) == 1
        let options = RunOptions(pin: pin, pcapDirectory: pcap, artifactsDirectory: artifacts, events: !noEvents,
                                 faultBackend: faultBackend)
        let parallel = ParallelDefault.here(requested: parallel, usual: 4).said()
        let result = CatalogRunner.run(scenarios, options: options, parallel: parallel) { progress in
            guard interactive else { return }
            let line = progress.render(now: .now, width: 100)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        if verbose {
            for scenario in result.scenarios { print(TerminalReport.scenarioDetail(scenario)) }
        }
        print(TerminalReport.summary(result, colors: isatty(STDOUT_FILENO) == 1))
        // A failed scenario's ladder is always shown: that is when one needs to see the wire.
        for scenario in result.scenarios where ladder || verbose || scenario.status == .failed {
            print(LadderDiagram.render(scenario))
        }
        OutputPaths.write([("--json", json, { try JSONReport.encode(result) }),
                           ("--junit", junit, { Data(JUnitReport.render(result).utf8) }),
                           ("--html", html, { Data(HTMLReport.render(result).utf8) })])
        let status = ExitStatus.of(result)
        if status != ExitStatus.passed { throw ExitCode(status) }
    }
}

/// Checks before anything is built: every scenario valid (exit 2), the machine able (exit 3).
enum Preflight {
    static func check(_ scenarios: [Scenario], faultBackend: FaultBackendChoice = .auto) throws {
        var messages: [String] = []
        for scenario in scenarios {
            let errors = ScenarioValidator.validate(scenario)
            if !errors.isEmpty { messages.append(InvalidScenario(scenarioID: scenario.id, errors: errors).description) }
        }
        if !messages.isEmpty { fail(messages.joined(separator: "\n"), ExitStatus.invalid) }
        do {
            try EnvironmentCheck.requirePrivileges()
            for scenario in scenarios { try ScenarioRunner.check(scenario, faultBackend: faultBackend) }
        } catch let error as UnservableFaults {
            fail(error.description, ExitStatus.unservable)
        } catch let error as EnvironmentError {
            fail("cannot run here: \(error)", ExitStatus.environment)
        } catch let error as InvalidScenario {
            fail(error.description, ExitStatus.invalid)
        } catch {
            fail("cannot run here: \(error)", ExitStatus.environment)
        }
    }

    static func fail(_ message: String, _ status: Int32) -> Never {
        FileHandle.standardError.write(Data("netfault: \(message)\n".utf8))
        exit(status)
    }
}

/// SIGINT and SIGTERM: remove pins and children, then exit 130 / 143; a crash does the
/// same before it ends the process. Namespaces need nothing: they close with the process.
enum SignalCleanup {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install() {
        CleanupRegistry.installCrashHandlers()
        for (signalNumber, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                CleanupRegistry.emergencyCleanup()
                FileHandle.standardError.write(Data("\nnetfault: interrupted; everything this run made is removed\n".utf8))
                exit(status)
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// `--shard I/N`: every N-th scenario from the I-th, in catalog order, so the split never
/// depends on timing and each scenario lands in exactly one shard.
struct Shard: ExpressibleByArgument {
    let index: Int
    let count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (1...count).contains(index) else {
            return nil
        }
        self.index = index
        self.count = count
    }

    func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }
}

extension ParallelDefault.Choice {
    /// The number, after its note (why it is not the usual one) went to stderr.
    func said() -> Int {
        if let note { FileHandle.standardError.write(Data("netfault: \(note)\n".utf8)) }
        return parallel
    }
}

/// `--fault-backend auto|bpf|nfqueue`.
extension FaultBackendChoice: ExpressibleByArgument {}

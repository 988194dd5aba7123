import ArgumentParser
import Foundation
import Netfault

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run one scenario once per value of a sysctl and tabulate what each run observed.",
        discussion: """
            One --sysctl gives the values to sweep (V1,V2,… and ranges LOW..HIGH, e.g. 1..8 or 1,2,5..7); \
            others with one value hold on every run. Every value is tried in a scratch namespace first: \
            one the kernel rejects stops the sweep with exit 2 before anything runs. Exit codes as for run \
            (1 if any value's run failed an expectation).
            """
    )

    @Argument(help: "The scenario ID (see `netfault list`).")
    var id: String

    @OptionGroup var tuning: TuningOptions

    @Option(help: "How many values run at once, each in namespaces of its own (default 4; 1 where the CPU is emulated).")
    var parallel: Int?

    @Option(help: "Write every value's result as JSON to this file.")
    var json: String?

    @Option(help: "Write a self-contained HTML page (the table, and each numeric observation plotted against the value).")
    var html: String?

    func validate() throws {
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
    }

    func run() throws {
        guard let scenario = CommandCatalog.scenario(id: id) else {
            throw ValidationError("unknown scenario \(id) (see `netfault list`)")
        }
        let assignments = try tuning.assignments(allowingLists: true)
        let swept = assignments.filter { $0.values.count > 1 }
        guard swept.count == 1 else {
            throw ValidationError(swept.isEmpty
                ? "name the values to sweep: --sysctl HOST:NAME=V1,V2,… (or a range, LOW..HIGH)"
                : "sweep one sysctl at a time: " + swept.map { "\($0.host):\($0.name)" }.joined(separator: " and ") + " each have several values")
        }
        let fixed = assignments.filter { $0.values.count == 1 }.flatMap(\.overrides)
        let sweep = Sweep(scenario, values: swept[0].overrides, fixed: fixed, hostSysctls: tuning.machineSysctls())
        Preflight.check(sweep)
        SignalCleanup.install()
        let interactive = isatty(STDERR_FILENO) == 1
        let parallel = ParallelDefault.here(requested: parallel, usual: 4).said()
        let result = sweep.runChecked(parallel: parallel) { progress in
            guard interactive else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[2K[\(progress.done)/\(progress.total)] values done".utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        print(SweepReport.render(result))
        if let json { try JSONReport.encode(result).write(to: URL(fileURLWithPath: json)) }
        if let html { try Data(SweepHTML.render(result).utf8).write(to: URL(fileURLWithPath: html)) }
        let status = ExitStatus.of(RunResult(kernel: result.kernel, startedAt: result.startedAt, scenarios: result.points.map(\.result)))
        if status != ExitStatus.passed { throw ExitCode(status) }
    }
}

extension Preflight {
    /// Every value of a sweep, checked as `run` checks a scenario: invalid (a value the
    /// kernel rejects) exits 2, a machine that cannot exits 3.
    static func check(_ sweep: Sweep) {
        do {
            try sweep.check()
        } catch let error as InvalidScenario {
            fail(error.description, ExitStatus.invalid)
        } catch {
            fail("cannot run here: \(error)", ExitStatus.environment)
        }
    }
}

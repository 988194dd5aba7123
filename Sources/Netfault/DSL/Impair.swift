/// Which backend serves a link-wide impairment.
public enum ImpairmentBackend: String, Sendable, Codable {
    /// In the kernel (tc BPF, with fq where it holds packets) where this kernel and the
    /// host's faults allow, else netem where the kernel has it, else the NFQUEUE engine.
    case automatic
    /// The in-kernel engine only: skipped, with the reason, where this kernel cannot
    /// (no tc BPF, or no sch_fq for a delay); an error where the impairment cannot run there at all.
    case bpf
    /// netem only: the scenario is skipped, with the reason, where the kernel lacks it.
    case netem
    /// The precise backend even where netem exists (every packet of the link
    /// passes the verdict engine).
    case nfqueue
}

/// A link-wide impairment of one direction of a link, like netem's: every
/// packet `from` sends to `to` is delayed, lost, duplicated, reordered,
/// corrupted or paced. Percentages are 0…100; times are seconds.
public struct Impairment: ScenarioComponent {
    /// The sending host.
    public let from: String
    /// The receiving host; the impairment acts on this direction of their link only.
    public let to: String
    /// Added to every packet, in seconds.
    public var delay: Double = 0
    /// Uniformly distributed in ±jitter around `delay`.
    public var jitter: Double = 0
    /// How much each delay follows the previous one, in percent.
    public var delayCorrelation: Double = 0
    /// Packets lost, in percent.
    public var loss: Double = 0
    /// How much each loss follows the previous one, in percent.
    public var lossCorrelation: Double = 0
    /// Packets sent twice, in percent.
    public var duplicate: Double = 0
    /// Packets sent at once, ahead of the delayed rest (needs a delay).
    public var reorder: Double = 0
    /// How much each reordering follows the previous one, in percent.
    public var reorderCorrelation: Double = 0
    /// One bit flipped after the IP header: the receiver drops it on its checksum.
    public var corrupt: Double = 0
    /// Bits per second; nil for unlimited.
    public var rate: Double?
    /// Which backend must serve it: netem, the precise NFQUEUE one, or the best available.
    public let backend: ImpairmentBackend
    /// Where the impairment was written.
    public let location: SourceLocation

    /// An impairment of the direction `from` → `to` (as `Impair(from:to:…)` makes it).
    public init(from: String, to: String, delay: Double = 0, jitter: Double = 0, delayCorrelation: Double = 0,
                loss: Double = 0, lossCorrelation: Double = 0, duplicate: Double = 0, reorder: Double = 0,
                reorderCorrelation: Double = 0, corrupt: Double = 0, rate: Double? = nil,
                backend: ImpairmentBackend = .automatic, file: String = #filePath, line: Int = #line) {
        self.from = from
        self.to = to
        self.delay = delay
        self.jitter = jitter
        self.delayCorrelation = delayCorrelation
        self.loss = loss
        self.lossCorrelation = lossCorrelation
        self.duplicate = duplicate
        self.reorder = reorder
        self.reorderCorrelation = reorderCorrelation
        self.corrupt = corrupt
        self.rate = rate
        self.backend = backend
        self.location = SourceLocation(file: file, line: line)
    }

    /// This impairment as an element of a scenario.
    public var element: ScenarioElement { .impairment(self) }

    /// "client→server: delay 20 ms ± 5 ms, loss 5 %"
    public var description: String {
        var parts: [String] = []
        if delay > 0 || jitter > 0 {
            parts.append("delay \(Format.milliseconds(delay))" + (jitter > 0 ? " ± \(Format.milliseconds(jitter))" : ""))
        }
        func add(_ name: String, _ percent: Double, _ correlation: Double = 0) {
            guard percent > 0 else { return }
            parts.append("\(name) \(Format.percent(percent / 100))" + (correlation > 0 ? " (correlation \(Format.percent(correlation / 100)))" : ""))
        }
        add("loss", loss, lossCorrelation)
        add("duplicate", duplicate)
        add("reorder", reorder, reorderCorrelation)
        add("corrupt", corrupt)
        if let rate { parts.append("rate \(Format.bitRate(rate))") }
        return "\(from)→\(to): " + (parts.isEmpty ? "no impairment" : parts.joined(separator: ", "))
    }
}

/// `Impair(from: "client", to: "server", delay: 0.02, loss: 5)` in a scenario body.
public typealias Impair = Impairment

import NetfaultKernel

extension NetemOptions {
    /// The netem qdisc that serves an impairment: seconds become nanoseconds,
    /// bits per second bytes per second; percentages stay percentages.
    init(_ impairment: Impairment) {
        self.init(delay: UInt64((impairment.delay * 1e9).rounded()), jitter: UInt64((impairment.jitter * 1e9).rounded()),
                  delayCorrelation: impairment.delayCorrelation, loss: impairment.loss,
                  lossCorrelation: impairment.lossCorrelation, duplicate: impairment.duplicate,
                  reorder: impairment.reorder, reorderCorrelation: impairment.reorderCorrelation,
                  corrupt: impairment.corrupt, rate: impairment.rate.map { UInt64(($0 / 8).rounded()) })
    }
}

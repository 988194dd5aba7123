import Foundation

extension Double {
    /// `1.230` for `fixed(3)`: reports show times with a constant number of decimals so columns line up.
    /// `String(format:)` without a locale always uses `.` as the decimal separator, as XML and terminals expect.
    func fixed(_ decimals: Int) -> String {
        String(format: "%.\(decimals)f", self)
    }
}

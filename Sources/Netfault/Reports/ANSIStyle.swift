/// The few SGR colours the terminal report uses. Applied only when the caller says the output is a terminal.
enum ANSIStyle: String {
    case green = "32"
    case red = "31"
    case yellow = "33"
    case dim = "2"

    func apply(_ text: String, if enabled: Bool) -> String {
        enabled ? "\u{1B}[\(rawValue)m\(text)\u{1B}[0m" : text
    }
}

/// The new package's executable: netfault's command line (list, show, run, up, doctor,
/// cleanup …) over the package's own catalog.
enum ExecutableTemplate {
    static let text = #"""
        import NetfaultCLI
        import Scenarios

        NetfaultCLI.main(catalog: catalog)

        """#
}

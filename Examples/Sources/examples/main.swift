import ExampleScenarios
import NetfaultCLI

NetfaultCLI.main(catalog: examples)

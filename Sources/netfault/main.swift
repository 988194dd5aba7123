import NetfaultCLI
import NetfaultScenarios

NetfaultCLI.main(catalog: Catalog.all)

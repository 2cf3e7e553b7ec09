import ServiceLifecycle

/// The gateway's service that keeps its shared budgets' slices topped up (``BudgetLeases``)
/// and, once the server has drained, gives back what was not spent.
struct BudgetLeaseRenewal: Service {
    let leases: BudgetLeases
    let core: GatewayCore

    func run() async throws {
        await leases.run(core: core)
        await leases.giveBack(core: core)
    }
}

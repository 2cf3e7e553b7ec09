/// A simulated component that receives events: an actor on the replication's executor.
///
/// The simulation delivers each event by entering the actor synchronously, which is legal
/// because every actor of a replication shares one executor; so delivery costs no task,
/// continuation or allocation.
public protocol EventHandler: ReplicationActor {
    /// Handles one event addressed to this component. Runs isolated to the actor.
    func handle(_ event: Event)
}

/// A registered handler and the entry point that delivers events to it, specialised for
/// the handler's concrete type when it was registered.
///
/// The reference is unmanaged: the calendar keeps every handler alive in its own list for
/// the replication's lifetime, so delivering an event costs no retain and release.
@usableFromInline
internal struct HandlerEntry {
    @usableFromInline let handler: Unmanaged<AnyObject>
    @usableFromInline let deliver: (AnyObject, Event) -> Void

    @inlinable
    init<Handler: EventHandler>(_ handler: Handler) {
        self.handler = Unmanaged.passUnretained(handler)
        self.deliver = { object, event in
            let isolatedEntry: (isolated Handler, Event) -> Void = { handler, event in handler.handle(event) }
            // Same calling convention; sound because delivery only happens on the
            // replication's executor, to which `register` checked the handler belongs.
            let entry = unsafeBitCast(isolatedEntry, to: ((Handler, Event) -> Void).self)
            entry(unsafeDowncast(object, to: Handler.self), event)
        }
    }
}

import NetfilterModel
import Topology

extension ManagementFlow {
  /// The interface the client's packets arrive on in the target namespace: the output interface
  /// of the most specific route to the client (what `ip route get CLIENT` answers), else the
  /// interface holding the server address; nil when the namespace cannot tell.
  public static func arrivalInterface(client: IPAddress, server: IPAddress?, in target: NamespaceTarget) -> String? {
    guard let live = try? target.run({ try LiveNamespace.read(RouteSocket()) }) else { return nil }
    var best: (length: Int, index: Int32)?
    for route in live.routes where route.version == client.version {
      guard let index = route.outputIndex else { continue }
      let length = route.destination?.length ?? 0
      if route.destination.map({ $0.contains(client) }) ?? true, length > best?.length ?? -1 {
        best = (length, index)
      }
    }
    if let best, let link = live.link(index: best.index) { return link.name }
    if let server, let holder = live.addresses.first(where: { $0.address.address == server }) {
      return live.link(index: holder.index)?.name
    }
    return nil
  }
}

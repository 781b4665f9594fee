import NetfilterModel

/// The traffic that must keep working while the firewall changes: the SSH session the command runs
/// in (`SSH_CONNECTION`) or a flow named with `--keep SRC:PORT`.
public struct ManagementFlow: Hashable, Sendable, CustomStringConvertible {
  /// Where the flow was learned.
  public enum Origin: String, Hashable, Sendable {
    /// The `SSH_CONNECTION` environment variable sshd sets: `client_ip client_port server_ip server_port`.
    case sshConnection = "SSH_CONNECTION"
    /// `--keep SRC:PORT`.
    case keep = "--keep"
  }

  public var origin: Origin
  /// The client: one address for `SSH_CONNECTION`, an address or prefix for `--keep`.
  public var client: IPPrefix
  /// The client's port of the current session (`SSH_CONNECTION` only).
  public var clientPort: UInt16?
  /// This host's address the client talks to; nil when not known (`--keep`).
  public var server: IPAddress?
  /// The port on this host: 22 for ssh.
  public var serverPort: UInt16
  /// The interface the client's packets arrive on, when the caller looked it up (`ip route get`);
  /// without it a rule testing `iifname` makes the prediction "cannot tell".
  public var inputInterface: String?

  public init(
    origin: Origin, client: IPPrefix, clientPort: UInt16? = nil, server: IPAddress? = nil, serverPort: UInt16,
    inputInterface: String? = nil
  ) {
    self.origin = origin
    self.client = client
    self.clientPort = clientPort
    self.server = server
    self.serverPort = serverPort
    self.inputInterface = inputInterface
  }

  /// `SSH session 192.0.2.10:51234 -> 10.0.0.1:22` or `--keep 192.0.2.0/24:22`.
  public var description: String {
    switch origin {
    case .sshConnection:
      let server = self.server.map { endpoint($0, serverPort) } ?? ":\(serverPort)"
      return "SSH session \(endpoint(client.address, clientPort)) -> \(server)"
    case .keep:
      let text = client.isSingleAddress ? client.address.description : client.description
      return "--keep " + (client.version == .v6 ? "[\(text)]:\(serverPort)" : "\(text):\(serverPort)")
    }
  }

  func endpoint(_ address: IPAddress, _ port: UInt16?) -> String {
    guard let port else { return address.description }
    return address.version == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)"
  }
}

/// Why a management flow could not be read; the message names the input and what was expected.
public struct ManagementFlowError: Error, Hashable, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

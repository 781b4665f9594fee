import Deployment
import Testing

@Suite struct DeploymentScaffoldTests {
  @Test func targetLinks() { #expect(Bool(true)) }
}

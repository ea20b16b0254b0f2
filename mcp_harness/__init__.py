"""mcp-harness: conformance and load testing for stateful Streamable HTTP MCP servers."""

__version__ = "0.1.0"

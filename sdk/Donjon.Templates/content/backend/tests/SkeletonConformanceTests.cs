using Donjon.Conformance;

namespace Donjon.Backends.Skeleton.Tests;

/// <summary>
/// The conformance checks that apply to a backend that does not launch keeps yet: it loads under its name, passes
/// <c>donjon plugins --check</c>, refuses a launch with a remedy and leaves no process. Once the backend runs keeps,
/// derive from <see cref="KeepConformanceSuite"/> instead, which adds the native-equal keep suite.
/// </summary>
public sealed class SkeletonConformanceTests : BackendConformanceSuite
{
    /// <inheritdoc />
    protected override ConformanceTarget Target { get; } = ConformanceTarget.FromEnvironment("skeleton");
}

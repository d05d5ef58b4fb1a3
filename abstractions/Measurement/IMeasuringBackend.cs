namespace Donjon.Abstractions.Measurement;

/// <summary>
/// An optional ability of a backend (a class that also implements <see cref="Backends.IBackend"/>): it computes, on
/// any machine and without its hardware, the launch measurement that its keep would have for a keep image. A user
/// compares that reference value with the one the hardware reports, before trusting the keep.
/// </summary>
/// <remarks>
/// <para>
/// The host type-tests each backend for this interface. When a backend does not implement it, the default is: a
/// backend that is not confidential (<see cref="Backends.BackendTraits.IsConfidential"/> is <see langword="false"/>)
/// is given the host's keep-image digest, which depends only on the keep image (<c>docs/measurement.md</c>); for a
/// confidential backend, the host says "backend X does not compute launch measurements" and <c>donjon measure</c>
/// exits with status 125.
/// </para>
/// <para>
/// An implementation walks the keep's initial memory page by page, in the order its launcher would load it, and
/// feeds each page to an <see cref="IKeepPageSink"/> that computes the value. The same walk, fed to a launching
/// sink, gives the hardware exactly the pages that were measured. Measuring must not touch hardware, must be
/// deterministic (the same image gives the same value), and must not keep the image.
/// </para>
/// </remarks>
public interface IMeasuringBackend
{
    /// <summary>Computes the launch measurement of a keep that would run <paramref name="image"/>.</summary>
    /// <param name="image">
    /// The keep image, built by the host with the fixed layout used for measurement (seed 0). Its initial stack is a
    /// runtime input: an implementation never measures <see cref="Images.KeepImage.Stack"/>'s contents.
    /// </param>
    /// <returns>The measurement, with the algorithm that names it and the regions it covers.</returns>
    /// <exception cref="InvalidOperationException">
    /// Something the measurement needs is missing or unusable (for example the backend's shim); the message says
    /// what, and what to do.
    /// </exception>
    /// <exception cref="ArgumentException">The image does not fit the backend's layout; the message says why.</exception>
    LaunchMeasurement Measure(Images.KeepImage image);
}

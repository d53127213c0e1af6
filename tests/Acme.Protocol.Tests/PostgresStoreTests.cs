using System.IO;
using Acme.Protocol.Model;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.State;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// What of the PostgreSQL challenge store is decided without a database: which addresses go to it, and
/// that only a database backend offers leases (the store itself runs against a real cluster in
/// tests/Pester/PostgresStore.Tests.ps1).
/// </summary>
public sealed class PostgresStoreTests
{
    [Theory]
    [InlineData("postgres://acme:pw@db:5432/acme", true)]
    [InlineData("POSTGRESQL://acme@db/acme?sslmode=require", true)]
    [InlineData("postgres:/acme", false)]
    [InlineData("redis://db:6379", false)]
    [InlineData("/srv/acme/postgres://", false)]
    public void PostgresAddressesGoToThePostgresStore(string text, bool expected) =>
        Assert.Equal(expected, PostgresUrl.IsAddress(text));

    [Fact]
    public void AStateFolderOffersNoLeasesOfItsOwn()
    {
        string folder = Path.Combine(Path.GetTempPath(), "acme-leases-" + Path.GetRandomFileName());
        using var files = new FolderStateFiles(folder);
        Assert.Null(files.Leases);
    }
}

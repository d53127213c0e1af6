using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Challenges.Dns01.Providers;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// acme-dns takes only the 43-character digest of dns-01 and dns-account-01 (its /update refuses anything
/// else): a dns-persist-01 record is refused with its own id before any request reaches the server.
/// </summary>
public class AcmeDnsProviderTests
{
    private sealed class CountingHandler : HttpMessageHandler
    {
        public int Requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{\"txt\":\"ok\"}") });
        }
    }

    private static (DnsProvider Provider, CountingHandler Handler) Create()
    {
        var handler = new CountingHandler();
        var settings = new DnsProviderSettings(new Dictionary<string, object?>
        {
            ["ApiUrl"] = "https://acme-dns.test/",
            ["Username"] = "user-1",
            ["Password"] = "acme-dns-PASSWORD-9c1e",
            ["Subdomain"] = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf",
        });
        var options = new DnsProviderOptions { CreateHttpHandler = () => handler };
        return (DnsProviderCatalog.Get("AcmeDns").Create(settings, options), handler);
    }

    [Fact]
    public async Task APersistentRecordIsRefusedBeforeAnyRequest()
    {
        (DnsProvider provider, CountingHandler handler) = Create();
        using (provider)
        {
            var identifier = new AcmeIdentifier("dns", "example.test");
            var record = new DnsTxtRecord("_validation-persist.example.test", "authority.test; accounturi=https://ca.test/acct/1", identifier);
            AcmeLocalException e = await Assert.ThrowsAsync<AcmeLocalException>(() => provider.AddAsync(new[] { record }, CancellationToken.None));
            Assert.Equal(AcmeErrorId.DnsProviderUnsupportedRecord, e.Id);
            Assert.Contains("_validation-persist.example.test", e.Message);
            Assert.DoesNotContain("PASSWORD", e.Message);
            Assert.Equal(0, handler.Requests);
        }
    }

    [Fact]
    public async Task ADigestIsPosted()
    {
        (DnsProvider provider, CountingHandler handler) = Create();
        using (provider)
        {
            var identifier = new AcmeIdentifier("dns", "example.test");
            var record = new DnsTxtRecord("_acme-challenge.example.test", new string('a', 43), identifier);
            await provider.AddAsync(new[] { record }, CancellationToken.None);
            Assert.Equal(1, handler.Requests);
        }
    }
}

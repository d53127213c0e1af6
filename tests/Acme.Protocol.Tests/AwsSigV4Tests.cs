using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using Acme.Protocol.Challenges.Dns01.Providers;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The SigV4 signer against AWS's published vectors: cases of the aws-sig-v4-test-suite (credentials
/// AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service") and the IAM ListUsers example of the
/// AWS General Reference ("Signature Version 4 signing process").
/// </summary>
public class AwsSigV4Tests
{
    private static readonly AwsCredentials Example = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);
    private static readonly DateTime At = new(2015, 8, 30, 12, 36, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("get-vanilla", "GET", "https://example.amazonaws.com/", null, "",
        "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", null, "",
        "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    [InlineData("post-vanilla", "POST", "https://example.amazonaws.com/", null, "",
        "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")]
    [InlineData("post-vanilla-query", "POST", "https://example.amazonaws.com/?Param1=value1", null, "",
        "SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")]
    [InlineData("post-x-www-form-urlencoded", "POST", "https://example.amazonaws.com/", "application/x-www-form-urlencoded", "Param1=value1",
        "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")]
    public void MatchesTheAwsSigV4TestSuite(string name, string method, string url, string? contentType, string body, string expected)
    {
        var headers = new List<KeyValuePair<string, string>> { new("X-Amz-Date", "20150830T123600Z") };
        if (contentType is not null)
        {
            headers.Add(new("Content-Type", contentType));
        }

        string authorization = AwsSigV4.Authorization(method, new Uri(url), headers, Encoding.UTF8.GetBytes(body), Example, "us-east-1", "service", At);

        Assert.True(authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " + expected, name + ": " + authorization);
    }

    [Fact]
    public void MatchesTheIamListUsersExampleOfTheGeneralReference()
    {
        var headers = new[]
        {
            new KeyValuePair<string, string>("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            new KeyValuePair<string, string>("X-Amz-Date", "20150830T123600Z"),
        };

        string authorization = AwsSigV4.Authorization("GET", new Uri("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"), headers,
            Array.Empty<byte>(), Example, "us-east-1", "iam", At);

        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
            + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", authorization);
    }

    [Fact]
    public void SignSetsTheDateTheTokenAndAnAuthorizationOverThem()
    {
        var credentials = new AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-value");
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset")
        {
            Content = new StringContent("<x/>", Encoding.UTF8, "text/xml"),
        };

        AwsSigV4.Sign(request, Encoding.UTF8.GetBytes("<x/>"), credentials, "us-east-1", "route53", At);

        Assert.Equal("20150830T123600Z", request.Headers.GetValues("X-Amz-Date").Single());
        Assert.Equal("session-token-value", request.Headers.GetValues("X-Amz-Security-Token").Single());
        string authorization = request.Headers.GetValues("Authorization").Single();
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=", authorization);
        Assert.DoesNotContain("wJalrXUtnFEMI", authorization);
        Assert.DoesNotContain("wJalrXUtnFEMI", credentials.ToString());
    }
}

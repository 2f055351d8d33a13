package org.fhirwall.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.ssl.SslHandler;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.util.Base64;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.fhirwall.auth.Credentials;
import org.jspecify.annotations.Nullable;

/**
 * What a request shows of its sender, for the auth stage: its {@code Authorization} and
 * {@code DPoP} headers, its method and URL as the client addressed fhirwall (the public origin of
 * {@code public-base-url} and the request's path: never the client's {@code Host}, which it
 * chooses), and the client certificate of its TLS connection.
 */
final class Senders {
  private Senders() {}

  static Credentials credentials(ChannelHandlerContext ctx, HttpRequest head, ProxySettings settings) {
    String target = head.uri();
    int end = target.length();
    int q = target.indexOf('?');
    int f = target.indexOf('#');
    if (q >= 0) {
      end = q;
    }
    if (f >= 0 && f < end) {
      end = f;
    }
    String path = target.substring(0, end);
    String url = settings.publicScheme() + "://" + settings.publicHost() + (path.startsWith("/") ? path : "/" + path);
    return new Credentials(head.headers().get("Authorization"), head.headers().getAll("DPoP"), head.method().name(), url,
        clientCertificate(ctx));
  }

  /** The SHA-256 thumbprint (base64url, as {@code x5t#S256}) of the connection's client certificate, or null. */
  static @Nullable String clientCertificate(ChannelHandlerContext ctx) {
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls == null) {
      return null;
    }
    try {
      Certificate[] chain = tls.engine().getSession().getPeerCertificates();
      if (chain.length == 0) {
        return null;
      }
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (SSLPeerUnverifiedException | CertificateEncodingException e) {
      return null;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }
}

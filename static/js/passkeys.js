// Passkeys: the browser's half of WebAuthn for templates/accounts/mfa/_passkey*.html.
//
// A box [data-passkey="register"] (a form with a [data-passkey-name] field) makes a passkey;
// a box [data-passkey="authenticate"] (with [data-passkey-purpose] "sign_in" or "verify" and a
// [data-passkey-start] button) proves one. Each box names its two endpoints:
// data-passkey-options (the server's options for navigator.credentials) and
// data-passkey-verify (where the browser's answer goes). Answers are JSON: {"redirect": url},
// {"reload": true}, or {"error": "..."} shown in the box's live region [data-passkey-status].
//
// Boxes start hidden and are shown only where the browser has WebAuthn (PublicKeyCredential).
// One listener on the document, so boxes that htmx swaps in work too; loaded by several
// fragments of one page, the script runs once.
(function () {
  "use strict";

  if (window.abcPasskeysLoaded) {
    return;
  }
  window.abcPasskeysLoaded = true;

  function supported() {
    return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
  }

  // --- base64url <-> ArrayBuffer ------------------------------------------------------

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "====".slice((base64.length % 4) || 4);
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      user: Object.assign({}, json.user, { id: toBuffer(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      allowCredentials: descriptors(json.allowCredentials),
    });
  }

  // The credential as PublicKeyCredential.toJSON() gives it (not every browser has toJSON).
  function credentialJson(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      json.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return json;
  }

  // --- Talking to the server ----------------------------------------------------------

  function csrfToken(box) {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["x-csrftoken"]) {
        return headers["x-csrftoken"];
      }
    } catch (ignored) {
      // No htmx headers on this page: the form's own token below.
    }
    var input = box.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function Refusal(message, answer) {
    this.message = message;
    this.redirect = answer.redirect || "";
    this.field = answer.field || "";
  }

  function refusalOf(status, answer) {
    if (answer.error) {
      return new Refusal(answer.error, answer);
    }
    if (status === 429) {
      return new Refusal("Too many failed sign-ins: wait a few minutes, then try again.", answer);
    }
    if (status === 403) {
      return new Refusal("This page has expired: reload it and try again.", answer);
    }
    return new Refusal("Something went wrong (error " + status + "): try again.", answer);
  }

  function post(box, url, body) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(box),
      },
      body: JSON.stringify(body),
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var read = type.indexOf("application/json") === 0 ? response.json() : Promise.resolve({});
      return read.then(function (answer) {
        if (!response.ok) {
          throw refusalOf(response.status, answer);
        }
        return answer;
      });
    });
  }

  // --- What the person sees -----------------------------------------------------------

  function say(box, message, isError) {
    var status = box.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = message;
      status.classList.toggle("is-error", !!isError);
    }
  }

  function fieldError(box, message) {
    var field = box.querySelector("[data-passkey-name]");
    if (!field) {
      return;
    }
    var id = field.id + "_error";
    var error = document.getElementById(id);
    if (!message) {
      field.removeAttribute("aria-invalid");
      field.setAttribute("aria-describedby", field.id.replace(/-name$/, "-help"));
      if (error) {
        error.remove();
      }
      return;
    }
    if (!error) {
      error = document.createElement("p");
      error.className = "field-error";
      error.id = id;
      field.insertAdjacentElement("afterend", error);
    }
    error.textContent = message;
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", id + " " + field.id.replace(/-name$/, "-help"));
    field.focus();
  }

  // What the browser says when the person cancels or nothing answers, in plain words.
  function browserProblem(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This authenticator already holds one of your passkeys.";
    }
    if (error && error.name === "SecurityError") {
      // The page's address is not the relying party's: another host, an IP address, or no HTTPS.
      return "Passkeys do not work at this address: open the site at its own address (HTTPS, or localhost).";
    }
    return "The browser could not use a passkey: " + (error && error.message ? error.message : "unknown error") + ".";
  }

  function finish(answer) {
    if (answer.redirect) {
      window.location.assign(answer.redirect);
    } else {
      window.location.reload();
    }
  }

  function fail(box, error) {
    if (error instanceof Refusal) {
      if (error.field === "name") {
        fieldError(box, error.message);
        say(box, "", false);
      } else {
        say(box, error.message, true);
      }
      if (error.redirect) {
        window.setTimeout(function () { window.location.assign(error.redirect); }, 1500);
      }
      return;
    }
    say(box, browserProblem(error), true);
  }

  function busy(box, on) {
    box.querySelectorAll("button").forEach(function (button) {
      button.disabled = on;
    });
  }

  // --- The two ceremonies -------------------------------------------------------------

  // Where the page was told to go next (a step-up's ?next=): the server keeps only its own paths.
  function nextUrl() {
    return new URLSearchParams(window.location.search).get("next") || "";
  }

  function register(box) {
    var field = box.querySelector("[data-passkey-name]");
    var name = field ? field.value.trim() : "";
    fieldError(box, "");
    busy(box, true);
    say(box, "Follow your browser's prompt to make the passkey…", false);
    post(box, box.dataset.passkeyOptions, { name: name })
      .then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      })
      .then(function (credential) {
        say(box, "Checking the new passkey…", false);
        return post(box, box.dataset.passkeyVerify, { next: nextUrl(), credential: credentialJson(credential) });
      })
      .then(finish)
      .catch(function (error) {
        fail(box, error);
      })
      .finally(function () {
        busy(box, false);
      });
  }

  function authenticate(box) {
    var purpose = box.dataset.passkeyPurpose || "verify";
    var next = nextUrl();
    busy(box, true);
    say(box, "Follow your browser's prompt to use your passkey…", false);
    post(box, box.dataset.passkeyOptions, { purpose: purpose })
      .then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (credential) {
        say(box, "Checking the passkey…", false);
        var answer = { purpose: purpose, next: next, credential: credentialJson(credential) };
        return post(box, box.dataset.passkeyVerify, answer);
      })
      .then(finish)
      .catch(function (error) {
        fail(box, error);
      })
      .finally(function () {
        busy(box, false);
      });
  }

  // --- Wiring -------------------------------------------------------------------------

  function reveal(root) {
    var ok = supported();
    root.querySelectorAll("[data-passkey], [data-passkey-supported]").forEach(function (element) {
      element.hidden = !ok;
    });
    root.querySelectorAll("[data-passkey-unsupported]").forEach(function (element) {
      element.hidden = ok;
    });
  }

  document.addEventListener("submit", function (event) {
    var box = event.target.closest("[data-passkey=register]");
    if (box) {
      event.preventDefault();
      register(box);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey-start]");
    var box = button && button.closest("[data-passkey=authenticate]");
    if (box) {
      event.preventDefault();
      authenticate(box);
    }
  });

  document.addEventListener("htmx:load", function (event) {
    reveal(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  } else {
    reveal(document);
  }
})();

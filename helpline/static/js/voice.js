/* Voice calls from the chat (issue 24, docs/adr/0033-voice-calls.md): the WebRTC part both pages
 * share. Loaded only when a call starts (bundles voice and voice_child, helpline/bundle.py).
 * Media goes browser to browser (DTLS-SRTP, Opus at a low bit rate), always relayed by the
 * helpline's own TURN server; the signalling travels sealed in the chat (the page seals and sends
 * what `send` gets). Each side checks that the DTLS certificate of the connection it got is the one
 * the other side named inside the sealed signalling, and ends the call otherwise. */
(function (root) {
  'use strict';

  var OPUS_BITRATE = 16000; // bits per second: clear speech on 3G
  var GATHER_MS = 4000;

  /* "sha-256 AB:CD:…" from an SDP's a=fingerprint line (the first one), or null. */
  function sdpFingerprint(sdp) {
    var m = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp || '');
    return m ? m[1].toLowerCase() + ' ' + m[2].toUpperCase() : null;
  }

  /* Only the helpline's TURN server, relay only: no other STUN or TURN server is ever asked. */
  function iceConfig(ticket) {
    var servers = (ticket.ice_servers || []).filter(function (s) {
      return (s.urls || []).every(function (u) { return /^turns?:/.test(u); });
    });
    if (!servers.length || ticket.policy !== 'relay') throw new Error('no TURN server');
    return { iceServers: servers, iceTransportPolicy: 'relay', bundlePolicy: 'max-bundle' };
  }

  /* The delay-line pitch shifter ("Jungle", after Chris Wilson): two delay lines whose delay
   * ramps up (pitch down) or down (pitch up), cross-faded. factor < 1 lowers the voice. */
  function pitchShifter(ctx, factor) {
    var rate = ctx.sampleRate, period = 0.1, fade = 0.05, depth = Math.abs(1 - factor) * period;
    var length = Math.round(period * rate), gap = Math.round((period - 2 * fade) * rate);
    function buffer(fill) {
      var b = ctx.createBuffer(1, length + gap, rate), d = b.getChannelData(0);
      for (var i = 0; i < length; i++) d[i] = fill(i);
      return b;
    }
    var ramp = buffer(factor < 1 ? function (i) { return i / length; } : function (i) { return (length - i) / length; });
    var fades = buffer(function (i) {
      var f = fade * rate;
      return i < f ? Math.sqrt(i / f) : i >= length - f ? Math.sqrt(1 - (i - (length - f)) / f) : 1;
    });
    var input = ctx.createGain(), output = ctx.createGain();
    var start = ctx.currentTime + 0.05, sources = [];
    [start, start + period - fade].forEach(function (at) {
      var mod = ctx.createBufferSource(), modGain = ctx.createGain(), delay = ctx.createDelay(1);
      var fader = ctx.createBufferSource(), mix = ctx.createGain();
      mod.buffer = ramp; fader.buffer = fades; mod.loop = fader.loop = true;
      modGain.gain.value = depth;
      mix.gain.value = 0;
      mod.connect(modGain).connect(delay.delayTime);
      fader.connect(mix.gain);
      input.connect(delay).connect(mix).connect(output);
      mod.start(at);
      fader.start(at);
      sources.push(mod, fader);
    });
    return { input: input, output: output };
  }

  /* One call. opts: ticket (the `turn` ack), caller (true: makes the offer), send(signal),
   * disguise (a pitch factor, or 0), onRemote(stream), onState(state, reason). */
  function Call(opts) {
    this.opts = opts;
    this.pc = null;
    this.local = null;
    this.ctx = null;
    this.remoteFingerprint = null;
    this.retried = false;
    this.ended = false;
    this.startedAt = 0;
  }

  Call.prototype.open = function () {
    var self = this;
    var pc = this.pc = new RTCPeerConnection(iceConfig(this.opts.ticket));
    pc.ontrack = function (event) { self.opts.onRemote(event.streams[0] || new MediaStream([event.track])); };
    pc.onconnectionstatechange = function () { self.onConnection(pc.connectionState); };
    return navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false })
      .then(function (stream) {
        self.local = stream;
        var track = stream.getAudioTracks()[0];
        if (self.opts.disguise) {
          var ctx = self.ctx = new AudioContext();
          var shifter = pitchShifter(ctx, self.opts.disguise);
          var out = ctx.createMediaStreamDestination();
          ctx.createMediaStreamSource(stream).connect(shifter.input);
          shifter.output.connect(out);
          track = out.stream.getAudioTracks()[0];
          ctx.resume();
        }
        var sender = pc.addTrack(track, stream);
        var params = sender.getParameters();
        params.encodings = params.encodings && params.encodings.length ? params.encodings : [{}];
        params.encodings[0].maxBitrate = OPUS_BITRATE;
        return sender.setParameters(params).catch(function () { /* the SDP's bit rate still holds */ });
      });
  };

  /* Caps Opus in the SDP too (maxaveragebitrate, DTX), for the side that receives it. */
  function lowBitrate(sdp) {
    return sdp.replace(/^(a=fmtp:111 .*)$/m, '$1;maxaveragebitrate=' + OPUS_BITRATE + ';usedtx=1');
  }

  Call.prototype.describe = function (kind, description) {
    var self = this, pc = this.pc;
    return pc.setLocalDescription({ type: description.type, sdp: lowBitrate(description.sdp) }).then(function () {
      return new Promise(function (done) {
        if (pc.iceGatheringState === 'complete') return done();
        var timer = setTimeout(done, GATHER_MS);
        pc.addEventListener('icegatheringstatechange', function () {
          if (pc.iceGatheringState === 'complete') { clearTimeout(timer); done(); }
        });
      });
    }).then(function () {
      var sdp = pc.localDescription.sdp;
      self.opts.send({ kind: kind, sdp: sdp, fingerprint: sdpFingerprint(sdp) });
    });
  };

  Call.prototype.offer = function (restart) {
    var self = this;
    return this.pc.createOffer({ iceRestart: !!restart }).then(function (d) { return self.describe('offer', d); });
  };

  Call.prototype.start = function () {
    var self = this;
    return this.open().then(function () { return self.offer(false); }).catch(function (e) { self.fail(e); });
  };

  /* A received signal, already opened and checked against its envelope by the page. */
  Call.prototype.receive = function (signal) {
    var self = this;
    if (this.ended) return Promise.resolve();
    if (signal.kind === 'hangup') {
      var why = ['fingerprint', 'left', 'dropped'].indexOf(signal.reason) >= 0 ? signal.reason : 'remote';
      return Promise.resolve(this.end(why, true));
    }
    if (signal.kind !== 'offer' && signal.kind !== 'answer') return Promise.resolve();
    if (!signal.fingerprint || sdpFingerprint(signal.sdp) !== signal.fingerprint ||
        (this.remoteFingerprint && this.remoteFingerprint !== signal.fingerprint)) {
      return Promise.resolve(this.end('fingerprint'));
    }
    this.remoteFingerprint = signal.fingerprint;
    var ready = this.pc ? Promise.resolve() : this.open();
    return ready.then(function () {
      return self.pc.setRemoteDescription({ type: signal.kind, sdp: signal.sdp });
    }).then(function () {
      if (signal.kind === 'offer') return self.pc.createAnswer().then(function (d) { return self.describe('answer', d); });
    }).catch(function (e) { self.fail(e); });
  };

  /* Once connected: the certificate the connection got must be the one named in the sealed signal. */
  Call.prototype.verify = function () {
    var self = this;
    return this.pc.getStats().then(function (stats) {
      var got = null;
      stats.forEach(function (report) {
        if (report.type === 'transport' && report.remoteCertificateId) {
          var cert = stats.get(report.remoteCertificateId);
          if (cert) got = cert.fingerprintAlgorithm.toLowerCase() + ' ' + cert.fingerprint.toUpperCase();
        }
      });
      if (got !== self.remoteFingerprint) return self.end('fingerprint');
      if (!self.startedAt) self.startedAt = Date.now();
      self.opts.onState('connected');
    });
  };

  Call.prototype.onConnection = function (state) {
    var self = this;
    if (this.ended) return;
    if (state === 'connected') this.verify();
    if (state !== 'failed' && state !== 'disconnected') return;
    clearTimeout(this.dropTimer);
    this.dropTimer = setTimeout(function () {
      if (self.ended || self.pc.connectionState === 'connected') return;
      if (self.retried) return self.end('dropped');
      self.retried = true; // one retry: a new ICE round through the same TURN server, then text
      self.opts.onState('retrying');
      if (self.opts.caller) self.offer(true).catch(function (e) { self.fail(e); });
      self.dropTimer = setTimeout(function () {
        if (!self.ended && self.pc.connectionState !== 'connected') self.end('dropped');
      }, 15000);
    }, state === 'failed' ? 0 : 4000);
  };

  Call.prototype.fail = function (error) {
    var denied = error && (error.name === 'NotAllowedError' || error.name === 'NotFoundError');
    this.end(denied ? 'microphone' : 'failed');
  };

  /* Ends the call: tells the other side (unless it told us), stops the microphone, closes
   * everything. reason: hangup, remote, fingerprint, dropped, microphone, failed, left. */
  Call.prototype.end = function (reason, fromRemote) {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.dropTimer);
    if (!fromRemote) this.opts.send({ kind: 'hangup', reason: reason });
    if (this.local) this.local.getTracks().forEach(function (t) { t.stop(); });
    if (this.ctx) this.ctx.close();
    if (this.pc) this.pc.close();
    var seconds = this.startedAt ? Math.round((Date.now() - this.startedAt) / 1000) : 0;
    this.opts.onState('ended', reason, seconds);
  };

  /* Seals a signal as a chat message (the envelope is inside) for a `signal` frame. */
  function seal(W, key, conv, from, cid, signal) {
    return W.encryptMessage(key, { conv: conv, from: from, cid: cid, text: JSON.stringify(signal), at: Date.now() });
  }

  /* Opens a `signal` event; null if it does not open or is not a call signal. */
  function open(W, key, frame) {
    try {
      var payload = W.decryptMessage(key, frame.body, { conv: frame.conv, from: frame.from, cid: frame.cid });
      var signal = JSON.parse(payload.text);
      return signal && typeof signal.kind === 'string' && typeof signal.call === 'string' ? signal : null;
    } catch (e) {
      return null;
    }
  }

  function newCallId(W) {
    return W.b64uEncode(root.nacl.randomBytes(12));
  }

  root.HelplineVoice = {
    Call: Call, seal: seal, open: open, newCallId: newCallId, sdpFingerprint: sdpFingerprint,
    iceConfig: iceConfig, pitchShifter: pitchShifter
  };
}(typeof window !== 'undefined' ? window : this));

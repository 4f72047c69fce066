/**
 * A real SMTP server in the test process (smtp-server), whose messages are parsed with mailparser:
 * what a mail client would see. It can be stopped and started again on the same port, to play an
 * SMTP server that goes down and comes back.
 */
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface TestSmtp {
  url: string
  port: number
  messages: ParsedMail[]
  /** resolves once at least n messages have arrived (rejects after timeoutMs) */
  waitFor(n: number, timeoutMs?: number): Promise<ParsedMail[]>
  stop(): Promise<void>
  /** listens again on the same port */
  restart(): Promise<void>
}

export async function startSmtp(port = 0): Promise<TestSmtp> {
  const messages: ParsedMail[] = []
  const make = () => new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    // Stopping drops open connections at once (a pooled client keeps one): an outage, not a goodbye.
    closeTimeout: 50,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => { messages.push(mail); callback() }, callback)
    },
  })
  let server = make()
  const listen = (p: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(p, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port))
  })
  const actual = await listen(port)
  return {
    url: `smtp://127.0.0.1:${actual}`,
    port: actual,
    messages,
    async waitFor(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs
      while (messages.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} e-mails, got ${messages.length}`)
        await Bun.sleep(20)
      }
      return messages
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async restart() {
      server = make()
      await listen(actual)
    },
  }
}

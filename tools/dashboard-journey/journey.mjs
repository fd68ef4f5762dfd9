// A new customer's journey on Press's own dashboard, in headless Chromium, with a screenshot
// of each page: sign up, the code from the verification mail, account set-up, New Site (version,
// provider, region, plan, subdomain), the site's job until Active, Setup Site, the site opened
// with the session Press made. Prints the timings. Run by tools/dashboard-journey/run.sh, which
// says what it needs; the environment it reads:
//   PRESS       the Press site's URL (http://press.test:8000)
//   MAIL_DIR    the folder mail_catcher.py writes each message the platform relays to
//   OUT         where the screenshots go; WIDTH, HEIGHT the viewport (1280x800; 390x844 a phone)
//   DOMAIN      the platform's root domain (run.sh runs this in a network namespace where names
//               are resolved by the platform's PowerDNS and port 443 reaches Traefik)
//   NSS_HOME    a HOME whose .pki/nssdb trusts the platform CA's root (run.sh makes it)
//   CHROMIUM    the browser (/usr/bin/chromium)
//   PRODUCT     a Product Trial: the trial's journey instead (its sign-up, site name, the
//               standby site handed out and opened logged in)
//   CUSTOMER, SITE  an existing customer's site: the customer logs in with the code from the
//               mail and uses its tabs instead (Backups: take one, log in to the site as its
//               Administrator and download it; with RESTORE=1 restore an offsite backup and
//               follow its job; Logs; Domains: add OWN_DOMAIN,
//               a CNAME to the site on the customer's DNS, and open the site under it; Actions:
//               drop the site when DROP=1)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const PRESS = process.env.PRESS || 'http://press.test:8000';
const MAIL_DIR = process.env.MAIL_DIR;
const OUT = process.env.OUT || 'journey-shots';
const W = +(process.env.WIDTH || 1280), H = +(process.env.HEIGHT || 800);
const tag = `${W}x${H}`;
const PRODUCT = process.env.PRODUCT || '';
const email = process.env.EMAIL || `olive-${Date.now().toString(36)}@example.com`;
const subdomain = process.env.SUBDOMAIN || `olive${Date.now().toString(36).slice(-5)}`;
fs.mkdirSync(OUT, { recursive: true });
const t0 = Date.now();
const times = {};
const mark = (name) => { times[name] = (Date.now() - t0) / 1000; console.log(`${times[name].toFixed(1)}s ${name}`); };
let n = 0;
async function shot(page, name) {
	const file = path.join(OUT, `${String(++n).padStart(2, '0')}-${name}-${tag}.png`);
	await page.screenshot({ path: file, fullPage: false });
	console.log(`shot ${file}`);
}

function mailCode(to, after) {
	for (const f of fs.readdirSync(MAIL_DIR).sort().reverse()) {
		if (Number(f.split('.')[0]) / 1e6 < after) continue;
		const text = fs.readFileSync(path.join(MAIL_DIR, f), 'latin1');
		if (!text.toLowerCase().includes(to.toLowerCase())) continue;
		const m = text.match(/^Subject: (\d{6}) - /m);
		if (m) return m[1];
	}
	return null;
}

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];
const userDataDir = fs.mkdtempSync('/tmp/journey-profile-');
const browser = await chromium.launchPersistentContext(userDataDir, {
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args, viewport: { width: W, height: H }, ignoreDefaultArgs: ['--headless=old'],
	env: { ...process.env, HOME: process.env.NSS_HOME || process.env.HOME },
});
const page = browser.pages()[0] || await browser.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.log(`console: ${m.text().slice(0, 200)}`); });
page.on('response', (r) => { if (r.status() >= 400 && r.url().includes('/api/')) console.log(`http ${r.status()} ${r.url().slice(0, 160)}`); });
// Press's realtime updates of a job as they reach the page (socket.io, either transport).
const realtime = {};
const heard = (text) => {
	for (const event of ['agent_job_update', 'doc_update', 'list_update']) if (String(text).includes(`"${event}"`)) realtime[event] = (realtime[event] || 0) + 1;
};
browser.on('page', (p) => p.on('websocket', (ws) => ws.on('framereceived', (f) => heard(f.payload))));
page.on('websocket', (ws) => ws.on('framereceived', (f) => heard(f.payload)));
page.on('response', async (r) => { if (r.url().includes('/socket.io/') && r.request().method() === 'GET') heard(await r.text().catch(() => '')); });

// The site's own page at the address Press gave (its name found through PowerDNS).
async function openedSite(where, name) {
	await where.waitForLoadState('networkidle').catch(() => {});
	await where.waitForTimeout(1500);
	await where.screenshot({ path: path.join(OUT, `${String(++n).padStart(2, '0')}-${name}-${tag}.png`) });
	console.log(`site tab ${where.url().replace(/sid=[^&]+/, 'sid=…')}; title ${await where.title()}; body ${(await where.locator('body').innerText()).slice(0, 120).replace(/\n+/g, ' | ')}`);
}

async function signUp(url) {
	await page.goto(url);
	await page.getByPlaceholder('johndoe@mail.com').fill(email);
	await shot(page, 'signup');
	const asked = Date.now();
	mark('signup page');
	await page.locator('button[type=submit]').first().click();
	await page.getByPlaceholder('123456').waitFor({ timeout: 30000 });
	let code = null;
	for (let i = 0; i < 120 && !code; i++) { code = mailCode(email, asked - 1000); if (!code) await page.waitForTimeout(500); }
	if (!code) throw new Error(`no verification mail for ${email} in ${MAIL_DIR}`);
	mark('verification mail caught');
	await page.getByPlaceholder('123456').fill(code);
	await shot(page, 'verify-code');
	await page.getByRole('button', { name: /verify/i }).first().click();
	await page.waitForURL(/setup-account|setup/, { timeout: 30000 });
	await page.getByLabel('First name').waitFor({ timeout: 30000 });
	await page.getByLabel('First name').fill('Olive');
	await page.getByLabel('Last name').fill('Owner');
	await page.locator('select').first().selectOption({ label: 'United States' }).catch(() => {});
	await shot(page, 'setup-account');
	await page.getByRole('button', { name: /create account/i }).click();
	await page.waitForURL((u) => !/setup-account/.test(u.toString()), { timeout: 60000 });
	await page.waitForLoadState('networkidle');
	mark('account made, logged in');
	await shot(page, 'after-account');
	console.log(`url ${page.url()}`);
}

async function trial() {
	// A product trial: its own sign-up page, then the site's name, then the site, logged in.
	await signUp(`${PRESS}/dashboard/signup?product=${PRODUCT}`);
	await page.locator('#subdomain').waitFor({ timeout: 30000 });
	await page.locator('#subdomain').fill(subdomain);
	await page.waitForTimeout(500);
	await shot(page, 'trial-site-name');
	await page.getByRole('button', { name: 'Create site' }).click();
	mark('trial site requested');
	await page.waitForURL(/login-to-site/, { timeout: 30000 });
	await page.waitForTimeout(700);
	await shot(page, 'trial-progress');
	// The page opens the site itself once Press says it is made (window.open(url, '_self')).
	await page.waitForURL((u) => u.hostname.endsWith(`.${process.env.DOMAIN}`), { timeout: 300000 });
	mark('trial site opened');
	await openedSite(page, 'trial-site-opened');
	mark('trial: logged into the site');
}

async function logIn(who) {
	await page.goto(`${PRESS}/dashboard/login`);
	await page.getByPlaceholder('johndoe@mail.com').first().fill(who);
	const asked = Date.now();
	await page.getByRole('button', { name: 'Send verification code' }).click();
	await page.getByPlaceholder('123456').waitFor({ timeout: 30000 });
	let code = null;
	for (let i = 0; i < 120 && !code; i++) { code = mailCode(who, asked - 1000); if (!code) await page.waitForTimeout(500); }
	if (!code) throw new Error(`no login code for ${who} in ${MAIL_DIR}`);
	await page.getByPlaceholder('123456').fill(code);
	await page.getByRole('button', { name: 'Submit verification code' }).click();
	await page.waitForURL((u) => !/login/.test(u.toString()), { timeout: 30000 });
	await page.waitForLoadState('networkidle');
	mark('logged in with the mailed code');
}

async function tour() {
	const site = process.env.SITE;
	const tab = async (name) => {
		await page.goto(`${PRESS}/dashboard/sites/${site}/${name}`);
		await page.waitForLoadState('networkidle');
		await page.waitForTimeout(1000);
	};
	const text = async () => (await page.locator('body').innerText()).replace(/\n+/g, ' | ');
	// A backup row's menu of actions (the row's last button), then one of its items: the newest
	// done backup, or with `offsite` the newest offsite one (the list's own filter).
	const rowAction = async (item, offsite = false) => {
		if (offsite) {
			await page.getByText('Offsite Backups', { exact: true }).click();
			await page.waitForTimeout(1500);
		}
		const row = page.locator('[role=row], tr, a[href*="/backups"], div.grid').filter({ hasText: /Success/ }).first();
		await row.locator('button').last().click();
		await page.getByText(item, { exact: true }).click();
	};
	await logIn(process.env.CUSTOMER);
	// Backups: one taken now, listed when done
	await tab('backups');
	const done = async () => (await text()).split('| Success |').length - 1;
	const before = await done();
	await page.getByRole('button', { name: 'Take Backup' }).click();
	await page.getByRole('button', { name: 'Start Backup' }).click();
	for (let i = 0; i < 60 && (await done()) <= before; i++) { await page.waitForTimeout(3000); await tab('backups'); }
	if ((await done()) <= before) throw new Error('the new backup was not listed as Success in 3 minutes');
	mark('backup listed');
	await shot(page, 'backups');
	// A backup kept on the server downloads from the site itself, to a session on the site:
	// Login As Administrator first (Press opens the site with the session it made).
	await page.goto(`${PRESS}/dashboard/sites/${site}`);
	await page.waitForLoadState('networkidle');
	await page.evaluate(() => { window.open = (u) => { window.__opened = u; return null; }; });
	await page.getByRole('button', { name: 'Options' }).click();
	await page.getByText('Login As Administrator').click();
	await page.locator('[role=dialog]').getByRole('button', { name: /Login|Confirm|Proceed/ }).last().click();
	await page.waitForFunction(() => window.__opened, null, { timeout: 60000 });
	const desk = await browser.newPage();
	await desk.goto(await page.evaluate(() => window.__opened));
	await openedSite(desk, 'site-as-administrator');
	await tab('backups');
	await page.evaluate(() => { window.open = (u) => { window.__opened = u; return null; }; });
	await rowAction('Download Database');
	await page.locator('[role=dialog]').getByRole('button', { name: /Download|Confirm/ }).last().click();
	await page.waitForFunction(() => window.__opened, null, { timeout: 30000 });
	const link = await page.evaluate(() => window.__opened);
	const [download] = await Promise.all([desk.waitForEvent('download'), desk.goto(link).catch(() => {})]);
	const saved = path.join(OUT, download.suggestedFilename());
	await download.saveAs(saved);
	const head = fs.readFileSync(saved).subarray(0, 2);
	console.log(`downloaded ${download.suggestedFilename()} from ${link}: ${fs.statSync(saved).size} bytes, gzip ${head[0] === 0x1f && head[1] === 0x8b}`);
	mark('backup downloaded');
	await desk.close();
	// Restore: an offsite backup (Press's scheduled ones go to the platform's store) put back
	// on the site; the job's page follows the restore live.
	if (process.env.RESTORE === '1') {
		await tab('backups');
		await rowAction('Restore Backup', true);
		await page.locator('[role=dialog]').getByRole('button', { name: /Restore|Confirm/ }).last().click();
		await page.waitForURL(/\/jobs\//, { timeout: 30000 });
		mark('restore requested');
		await page.waitForTimeout(1500);
		await shot(page, 'restore-job-running');
		const job = page.url();
		for (let i = 0; i < 100 && !/Success|Failure/.test(await page.locator('body').innerText()); i++) await page.waitForTimeout(3000);
		if (!/Restore Site\s+Success/.test(await page.locator('body').innerText())) throw new Error(`the restore job did not succeed: ${job}`);
		mark('restore job done (page updated live, not reloaded)');
		await shot(page, 'restore-job-done');
		console.log(`restore job ${job}: ${(await page.locator('body').innerText()).slice(0, 400).replace(/\n+/g, ' | ')}`);
	}
	// Logs
	await tab('insights/logs');
	await page.getByText('Frappe Logs').click();
	await page.waitForTimeout(1500);
	await shot(page, 'logs');
	// A domain of the customer's own
	const own = process.env.OWN_DOMAIN;
	if (own) {
		await tab('domains');
		await page.getByRole('button', { name: 'Add Domain' }).click();
		await page.getByPlaceholder('www.example.com').fill(own);
		await page.getByRole('button', { name: 'Verify DNS' }).click();
		await page.getByText('DNS records successfully verified').waitFor({ timeout: 30000 });
		await shot(page, 'domain-verified');
		await page.locator('[role=dialog]').getByRole('button', { name: 'Add Domain' }).click();
		const active = new RegExp(`${own.replace(/\./g, '\\.')} \\| Active`);
		for (let i = 0; i < 60 && !active.test(await text()); i++) { await page.waitForTimeout(3000); await tab('domains'); }
		mark('own domain active');
		await shot(page, 'domains');
		const there = await browser.newPage();
		const answer = await there.goto(`https://${own}/login`);
		console.log(`https://${own}/login: ${answer.status()} ${(await there.locator('body').innerText()).slice(0, 60).replace(/\n+/g, ' ')}`);
		await there.screenshot({ path: path.join(OUT, `${String(++n).padStart(2, '0')}-own-domain-${tag}.png`) });
		await there.close();
	}
	// Drop the site
	if (process.env.DROP === '1') {
		await tab('actions');
		const drop = page.getByRole('button', { name: /^Drop/ }).last();
		await drop.scrollIntoViewIfNeeded();
		await drop.click();
		await page.getByPlaceholder('Site name').fill(site);
		await shot(page, 'drop');
		await page.locator('[role=dialog]').getByRole('button', { name: 'Drop Site' }).click();
		for (let i = 0; i < 60; i++) {
			await page.waitForTimeout(3000);
			await page.goto(`${PRESS}/dashboard/sites`);
			await page.waitForLoadState('networkidle');
			if (/No sites/.test(await text())) break;
		}
		mark('site dropped');
		await shot(page, 'sites-after-drop');
	}
}

try {
	if (process.env.CUSTOMER) {
		await tour();
	} else if (PRODUCT) {
		await trial();
	} else {
		await signUp(`${PRESS}/dashboard/signup`);
		await newSite();
	}
} catch (e) {
	console.log(`FAILED: ${e.message}`);
	await shot(page, 'failed').catch(() => {});
	process.exitCode = 1;
} finally {
	console.log(JSON.stringify({ email, subdomain, times, realtime }));
	await browser.close();
}

async function newSite() {
	// New site: Press's own page, as the customer clicks through it.
	await page.goto(`${PRESS}/dashboard/sites/new`);
	await page.getByText('Version 15', { exact: true }).first().click();
	await page.getByRole('button', { name: 'Self-hosted' }).click();
	await page.getByRole('button', { name: process.env.REGION || 'Default' }).click();  // the cluster's title
	await page.getByText('Select Plan').waitFor();
	await page.waitForTimeout(800);
	await shot(page, 'new-site-plans');
	await page.getByText(process.env.PLAN_PRICE || '$10', { exact: false }).first().click();  // the first plan at that price
	await page.getByPlaceholder('Subdomain').fill(subdomain);
	await page.waitForTimeout(1500);  // the page asks whether the name is free
	await page.getByText(/I agree that the laws of the region/).click();
	await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
	await shot(page, 'new-site-filled');
	mark('new site filled');
	await page.getByRole('button', { name: 'Create site' }).click();
	await page.waitForURL(/\/sites\/.*|site-progress|new-site-progress/, { timeout: 60000 });
	mark('site requested');
	await page.waitForTimeout(2000);
	await shot(page, 'site-progress');
	console.log(`url ${page.url()}`);
	for (let i = 0; i < 120; i++) {
		const text = await page.locator('body').innerText();
		if (/Active/.test(text) && !/Pending|Installing/.test(text)) break;
		await page.waitForTimeout(2000);
	}
	mark('site active (page says)');
	await shot(page, 'site-active');
	console.log('page text:', (await page.locator('body').innerText()).slice(0, 600).replace(/\n+/g, ' | '));
	// The job's page, as the customer watched it (reloaded now that the site is Active).
	await page.reload(); await page.waitForLoadState('networkidle'); await page.waitForTimeout(1000);
	await shot(page, 'site-job');
	// Setup Site: Press logs in on the site and opens it in a new tab with the session.
	// (window.open is replaced to take the URL, which a tab of this script then opens.)
	await page.evaluate(() => { window.open = (u) => { window.__opened = u; return null; }; });
	await page.getByRole('button', { name: 'Setup Site' }).click();
	await page.waitForFunction(() => window.__opened, null, { timeout: 60000 });
	const url = await page.evaluate(() => window.__opened);
	const tab = await browser.newPage();
	console.log(`login url ${url.replace(/sid=[^&]+/, 'sid=…')}`);
	mark('login link');
	await tab.goto(url);
	await openedSite(tab, 'site-opened');
	mark('site opened logged in');
}

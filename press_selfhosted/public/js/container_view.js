// The bench's container, on the Bench and Site forms: its recent output and its CPU and memory,
// from the engine (press_selfhosted.integrations.container_view), refreshed on demand, and its
// new output followed live (Follow: lines arrive over realtime from a background job).
(() => {
	const API = "press_selfhosted.integrations.container_view";
	const EVENT = "press_selfhosted_container_output";
	const show = (frm) => {
		let token = null;
		const dialog = new frappe.ui.Dialog({
			title: __("Container of {0}", [frm.doc.name]),
			size: "extra-large",
			fields: [{ fieldtype: "HTML", fieldname: "view" }],
			primary_action_label: __("Refresh"),
			primary_action: () => load(),
			secondary_action_label: __("Follow"),
			secondary_action: () => (token ? stop() : follow()),
			onhide: () => stop(),
		});
		const button = () => dialog.get_secondary_btn();
		const output = () => dialog.fields_dict.view.$wrapper.find("pre");
		const receive = (message) => {
			if (!token || message.token !== token) return;
			const pre = output();
			if (message.lines.length) {
				pre.append(document.createTextNode("\n" + message.lines.join("\n")));
				pre.scrollTop(pre.prop("scrollHeight"));
			}
			if (message.done) ended();
		};
		const ended = () => {
			frappe.realtime.off(EVENT, receive);
			token = null;
			button().text(__("Follow"));
		};
		const follow = () =>
			frappe.call(`${API}.follow`, { doctype: frm.doctype, name: frm.doc.name }).then(({ message }) => {
				token = message;
				frappe.realtime.on(EVENT, receive);
				button().text(__("Stop following"));
			});
		const stop = () => {
			if (!token) return;
			frappe.call(`${API}.stop_following`, { token });
			ended();
		};
		const load = () =>
			frappe
				.call(`${API}.container_view`, { doctype: frm.doctype, name: frm.doc.name })
				.then(({ message: v }) => {
					const area = dialog.fields_dict.view.$wrapper;
					if (!v.marked) {
						area.html(`<p>${__("This bench is not on a server marked for the local executor.")}</p>`);
						return;
					}
					const mib = (n) => (n == null ? "-" : `${(n / 1048576).toFixed(0)} MiB`);
					area.html(`
						<p><b>${frappe.utils.escape_html(v.container)}</b>: ${frappe.utils.escape_html(v.status)},
						${__("restarts")} ${v.restart_count}, CPU ${v.cpu_percent == null ? "-" : v.cpu_percent.toFixed(1) + " %"},
						${__("memory")} ${mib(v.memory_bytes)} / ${v.memory_limit_bytes ? mib(v.memory_limit_bytes) : __("no limit")}</p>
						<pre style="max-height: 60vh; overflow: auto; font-size: 11px">${frappe.utils.escape_html(v.output)}</pre>`);
				});
		load();
		dialog.show();
	};
	for (const doctype of ["Bench", "Site"]) {
		frappe.ui.form.on(doctype, {
			refresh(frm) {
				if (!frm.is_new()) frm.add_custom_button(__("Container Logs"), () => show(frm), __("Self-Hosted"));
			},
		});
	}
})();

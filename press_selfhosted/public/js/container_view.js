// The bench's container, on the Bench and Site forms: its recent output and its CPU and memory,
// from the engine (press_selfhosted.integrations.container_view), refreshed on demand.
(() => {
	const show = (frm) => {
		const dialog = new frappe.ui.Dialog({
			title: __("Container of {0}", [frm.doc.name]),
			size: "extra-large",
			fields: [{ fieldtype: "HTML", fieldname: "view" }],
			primary_action_label: __("Refresh"),
			primary_action: () => load(),
		});
		const load = () =>
			frappe
				.call("press_selfhosted.integrations.container_view.container_view", { doctype: frm.doctype, name: frm.doc.name })
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

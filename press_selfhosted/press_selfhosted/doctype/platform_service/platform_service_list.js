frappe.listview_settings["Platform Service"] = {
	get_indicator(doc) {
		const colors = { Healthy: "green", Failing: "red", Unknown: "gray" };
		return [__(doc.status), colors[doc.status], `status,=,${doc.status}`];
	},
	onload(listview) {
		listview.page.add_inner_button(__("Check now"), () =>
			frappe.call("press_selfhosted.press_selfhosted.doctype.platform_service.health.refresh_now").then(() => listview.refresh())
		);
	},
};
